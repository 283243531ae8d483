// hwgen_hidden: h[j] = requantize(o[j] * t[j], SHIFT) to the hidden-state (io) quantizer, for
// all H units, combinational; bit-exact with hwgen.ir.graph.step. t is tanh(c_new).
module hwgen_hidden #(
    parameter int H        = 1,
    parameter int O_W      = 8,
    parameter bit O_SIGNED = 1'b0,
    parameter int T_W      = 8,
    parameter bit T_SIGNED = 1'b1,
    parameter int SHIFT    = 0,
    parameter int ROUNDING = 0,
    parameter int OUT_W    = 8,
    parameter bit OUT_SIGNED = 1'b1,
    parameter int OUT_MIN  = -128,
    parameter int OUT_MAX  = 127
) (
    input  logic [H*O_W-1:0]   o_act,
    input  logic [H*T_W-1:0]   t_act,
    output logic [H*OUT_W-1:0] h
);
    localparam int OE = O_W + 1;
    localparam int TE = T_W + 1;
    for (genvar j = 0; j < H; j++) begin : g_unit
        logic signed [OE-1:0]    o_s;  // operands as signed numbers (one extra bit)
        logic signed [TE-1:0]    t_s;
        logic signed [OE+TE-1:0] prod;
        assign o_s = O_SIGNED ? OE'($signed(o_act[j*O_W +: O_W])) : OE'($unsigned(o_act[j*O_W +: O_W]));
        assign t_s = T_SIGNED ? TE'($signed(t_act[j*T_W +: T_W])) : TE'($unsigned(t_act[j*T_W +: T_W]));
        assign prod = (OE+TE)'(o_s) * (OE+TE)'(t_s);
        hwgen_requant #(
            .IN_W(OE+TE), .IN_SIGNED(1'b1), .SHIFT(SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_MIN(OUT_MIN), .OUT_MAX(OUT_MAX)
        ) u_h (.x(prod), .y(h[j*OUT_W +: OUT_W]));
    end
endmodule
