// hwgen_hidden: h[j] = requantize(o[j] * t[j], SHIFT) to the hidden-state (io) quantizer, for
// all H units; bit-exact with hwgen.ir.graph.step. t is tanh(c_new).
// Pipeline: the product (hwgen_mul in MUL_STYLE, MUL_LATENCY cycles: its MIN_LATENCY, given by
// hwgen/cores.py mul_latency); the rounded and then saturated product (hwgen_requant with PIPE).
// LANES units per cycle (hwgen_lanes). LANES = H: LATENCY = MUL_LATENCY + 2 cycles from in_valid
// to out_valid (hwgen/cores.py hidden_latency), a new vector may enter in every cycle and o_act
// and t_act are read in the in_valid cycle only. LANES < H: the chunk's operands are registered
// first (hwgen_lane_shift with REG), LATENCY = MUL_LATENCY + 3 + H/LANES (hwgen/cores.py
// lane_latency with reg_select), a vector every H/LANES cycles at most, o_act and t_act held for
// H/LANES cycles from in_valid. Nothing stalls; h is valid in the out_valid cycle (the controller
// registers it then).
module hwgen_hidden #(
    parameter int H        = 1,
    parameter int LANES    = H,  // units per cycle (divides H)
    parameter int O_W      = 8,
    parameter bit O_SIGNED = 1'b0,
    parameter int T_W      = 8,
    parameter bit T_SIGNED = 1'b1,
    parameter int SHIFT    = 0,
    parameter int ROUNDING = 0,
    parameter int OUT_W    = 8,
    parameter bit OUT_SIGNED = 1'b1,
    parameter int OUT_MIN  = -128,
    parameter int OUT_MAX  = 127,
    parameter int MUL_STYLE = 0,  // hwgen_mul: 0 the inferred `*`, 1 products in logic
    parameter int MUL_LATENCY = 1
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [H*O_W-1:0]   o_act,
    input  logic [H*T_W-1:0]   t_act,
    input  logic               in_valid,
    output logic [H*OUT_W-1:0] h,
    output logic               out_valid
);
    localparam int OE = O_W + 1;
    localparam int TE = T_W + 1;
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = MUL_LATENCY + 2 + (H / LANES == 1 ? 0 : 1 + H / LANES);
    /* verilator lint_on UNUSEDPARAM */
    localparam int U  = MUL_LATENCY + 2 + (H / LANES > 1 ? 1 : 0);  // the lanes' latency

    logic                  first;
    logic [U-1:0]           valid_q;  // fire delayed by 1 to U cycles (hwgen_lanes)
    logic [LANES*O_W-1:0]   o_lane;
    logic [LANES*T_W-1:0]   t_lane;
    logic [LANES*OUT_W-1:0] h_lane;

    /* verilator lint_off PINCONNECTEMPTY */  // the lanes' own valid line (fire_q) is enough
    hwgen_lanes #(.N(H), .LANES(LANES), .W(OUT_W), .DELAY(U)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(), .beat(), .first(first), .fire_q(valid_q),
        .lane_valid(valid_q[U-1]), .lane_data(h_lane), .out_data(h), .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(O_W), .REG(1'b1))
        u_o (.clk(clk), .in_data(o_act), .first(first), .out_data(o_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(T_W), .REG(1'b1))
        u_t (.clk(clk), .in_data(t_act), .first(first), .out_data(t_lane));

    for (genvar j = 0; j < LANES; j++) begin : g_unit
        logic signed [OE-1:0]    o_s;  // operands as signed numbers (one extra bit)
        logic signed [TE-1:0]    t_s;
        logic signed [OE+TE-1:0] prod_q;  // the product, MUL_LATENCY cycles later
        assign o_s = O_SIGNED ? OE'($signed(o_lane[j*O_W +: O_W])) : OE'($unsigned(o_lane[j*O_W +: O_W]));
        assign t_s = T_SIGNED ? TE'($signed(t_lane[j*T_W +: T_W])) : TE'($unsigned(t_lane[j*T_W +: T_W]));
        hwgen_requant #(
            .IN_W(OE+TE), .IN_SIGNED(1'b1), .SHIFT(SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_MIN(OUT_MIN), .OUT_MAX(OUT_MAX),
            .PIPE(1'b1)
        ) u_h (.clk(clk), .x(prod_q), .y(h_lane[j*OUT_W +: OUT_W]));
        hwgen_mul #(.A_W(OE), .B_W(TE), .MUL_STYLE(MUL_STYLE), .LATENCY(MUL_LATENCY))
            u_mul (.clk(clk), .a(o_s), .b(t_s), .p(prod_q));
    end
endmodule
