// hwgen_cell: the LSTM cell update for all H units, combinational, bit-exact with
// hwgen.ir.graph.step:
//   f       = CIFG ? ONE - i : f_in                       (CIFG: f is not re-quantized)
//   fc      = requantize(f * c,  FC_SHIFT) to the cell-state quantizer
//   ig      = requantize(i * g,  IG_SHIFT) to the cell-state quantizer
//   c_new   = saturate(fc + ig) to the cell-state quantizer
// Every product is exact: operands are sign- or zero-extended to their own width plus one.
module hwgen_cell #(
    parameter int H          = 1,
    parameter int F_W        = 8,
    parameter bit F_SIGNED   = 1'b0,
    parameter int I_W        = 8,
    parameter bit I_SIGNED   = 1'b0,
    parameter int G_W        = 8,
    parameter bit G_SIGNED   = 1'b1,
    parameter int C_W        = 8,
    parameter bit C_SIGNED   = 1'b1,
    parameter int C_MIN      = -128,
    parameter int C_MAX      = 127,
    parameter int FC_SHIFT   = 0,
    parameter int IG_SHIFT   = 0,
    parameter int ROUNDING   = 0,
    parameter bit CIFG       = 1'b0,
    parameter int ONE        = 255
) (
    /* verilator lint_off UNUSEDSIGNAL */  // under CIFG the forget gate is derived from i_act
    input  logic [H*F_W-1:0] f_act,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [H*I_W-1:0] i_act,
    input  logic [H*G_W-1:0] g_act,
    input  logic [H*C_W-1:0] c_old,
    output logic [H*C_W-1:0] c_new
);
    localparam int FE = (CIFG ? (I_W > F_W ? I_W : F_W) + 2 : F_W + 1);  // f as a signed number
    localparam int CE = C_W + 1;
    localparam int IE = I_W + 1;
    localparam int GE = G_W + 1;

    initial begin
        if (CIFG && (ONE < 0 || ONE >= (1 << (FE - 1))))
            $fatal(1, "hwgen_cell: ONE=%0d does not fit the %0d-bit forget gate", ONE, FE);
    end

    for (genvar j = 0; j < H; j++) begin : g_unit
        logic signed [FE-1:0]      f;
        logic signed [FE+CE-1:0]   fc_prod;
        logic signed [IE+GE-1:0]   ig_prod;
        logic        [C_W-1:0]     fc, ig;
        logic signed [C_W+1:0]     sum;
        logic signed [C_W+1:0]     fc_s, ig_s;
        logic signed [IE-1:0]      i_s;  // operands as signed numbers (one extra bit)
        logic signed [GE-1:0]      g_s;
        logic signed [CE-1:0]      c_s;
        // Each branch is extended inside its own cast; the results are then used only as signed.
        assign i_s = I_SIGNED ? IE'($signed(i_act[j*I_W +: I_W])) : IE'($unsigned(i_act[j*I_W +: I_W]));
        assign g_s = G_SIGNED ? GE'($signed(g_act[j*G_W +: G_W])) : GE'($unsigned(g_act[j*G_W +: G_W]));
        assign c_s = C_SIGNED ? CE'($signed(c_old[j*C_W +: C_W])) : CE'($unsigned(c_old[j*C_W +: C_W]));
        if (CIFG) begin : g_cifg
            assign f = FE'(ONE) - FE'(i_s);
        end else begin : g_f
            assign f = F_SIGNED ? FE'($signed(f_act[j*F_W +: F_W])) : FE'($unsigned(f_act[j*F_W +: F_W]));
        end
        assign fc_prod = (FE+CE)'(f) * (FE+CE)'(c_s);
        assign ig_prod = (IE+GE)'(i_s) * (IE+GE)'(g_s);
        hwgen_requant #(
            .IN_W(FE+CE), .IN_SIGNED(1'b1), .SHIFT(FC_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(C_W), .OUT_SIGNED(C_SIGNED), .OUT_MIN(C_MIN), .OUT_MAX(C_MAX)
        ) u_fc (.x(fc_prod), .y(fc));
        hwgen_requant #(
            .IN_W(IE+GE), .IN_SIGNED(1'b1), .SHIFT(IG_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(C_W), .OUT_SIGNED(C_SIGNED), .OUT_MIN(C_MIN), .OUT_MAX(C_MAX)
        ) u_ig (.x(ig_prod), .y(ig));
        assign fc_s = C_SIGNED ? (C_W+2)'($signed(fc)) : (C_W+2)'($unsigned(fc));
        assign ig_s = C_SIGNED ? (C_W+2)'($signed(ig)) : (C_W+2)'($unsigned(ig));
        assign sum = fc_s + ig_s;
        hwgen_requant #(
            .IN_W(C_W+2), .IN_SIGNED(1'b1), .SHIFT(0), .ROUNDING(ROUNDING),
            .OUT_W(C_W), .OUT_SIGNED(C_SIGNED), .OUT_MIN(C_MIN), .OUT_MAX(C_MAX)
        ) u_sum (.x(sum), .y(c_new[j*C_W +: C_W]));
    end
endmodule
