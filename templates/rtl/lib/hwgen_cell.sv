// hwgen_cell: the LSTM cell update for all H units, bit-exact with hwgen.ir.graph.step:
//   f       = CIFG ? ONE - i : f_in                       (CIFG: f is not re-quantized)
//   fc      = requantize(f * c,  FC_SHIFT) to the cell-state quantizer
//   ig      = requantize(i * g,  IG_SHIFT) to the cell-state quantizer
//   c_new   = saturate(fc + ig) to the cell-state quantizer
// Every product is exact: operands are sign- or zero-extended to their own width plus one.
// Pipeline: the two products (hwgen_mul in MUL_STYLE, both MUL_LATENCY cycles: the larger of the
// two products' MIN_LATENCY, given by hwgen/cores.py cell_mul_latency); the two rounded and then
// saturated products (hwgen_requant with PIPE); the saturated sum. LANES units per cycle
// (hwgen_lanes). LANES = H: LATENCY = MUL_LATENCY + 3 cycles from in_valid to out_valid
// (hwgen/cores.py cell_latency), a new vector may enter in every cycle and the operands are read
// in the in_valid cycle only. LANES < H: the chunk's operands are registered first
// (hwgen_lane_shift with REG), LATENCY = MUL_LATENCY + 4 + H/LANES (hwgen/cores.py lane_latency
// with reg_select), a vector every H/LANES cycles at most, the operands held for H/LANES cycles
// from in_valid. Nothing stalls; c_new is valid in the out_valid cycle (the controller registers
// it then).
module hwgen_cell #(
    parameter int H          = 1,
    parameter int LANES      = H,  // units per cycle (divides H)
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
    parameter int ONE        = 255,
    parameter int MUL_STYLE  = 0,  // hwgen_mul: 0 the inferred `*`, 1 products in logic
    parameter int MUL_LATENCY = 1
) (
    input  logic             clk,
    input  logic             rst,
    /* verilator lint_off UNUSEDSIGNAL */  // under CIFG the forget gate is derived from i_act
    input  logic [H*F_W-1:0] f_act,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [H*I_W-1:0] i_act,
    input  logic [H*G_W-1:0] g_act,
    input  logic [H*C_W-1:0] c_old,
    input  logic             in_valid,
    output logic [H*C_W-1:0] c_new,
    output logic             out_valid
);
    localparam int FE = (CIFG ? (I_W > F_W ? I_W : F_W) + 2 : F_W + 1);  // f as a signed number
    localparam int CE = C_W + 1;
    localparam int IE = I_W + 1;
    localparam int GE = G_W + 1;
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = MUL_LATENCY + 3 + (H / LANES == 1 ? 0 : 1 + H / LANES);
    /* verilator lint_on UNUSEDPARAM */
    localparam int U  = MUL_LATENCY + 3 + (H / LANES > 1 ? 1 : 0);  // the lanes' latency

    initial begin
        if (CIFG && (ONE < 0 || ONE >= (1 << (FE - 1))))
            $fatal(1, "hwgen_cell: ONE=%0d does not fit the %0d-bit forget gate", ONE, FE);
    end

    logic                first;
    logic [U-1:0]         valid_q;  // fire delayed by 1 to U cycles (hwgen_lanes)
    /* verilator lint_off UNUSEDSIGNAL */  // under CIFG the forget gate is derived from i_lane
    logic [LANES*F_W-1:0] f_lane;
    /* verilator lint_on UNUSEDSIGNAL */
    logic [LANES*I_W-1:0] i_lane;
    logic [LANES*G_W-1:0] g_lane;
    logic [LANES*C_W-1:0] c_lane, c_lane_new;

    /* verilator lint_off PINCONNECTEMPTY */  // the lanes' own valid line (fire_q) is enough
    hwgen_lanes #(.N(H), .LANES(LANES), .W(C_W), .DELAY(U)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(), .beat(), .first(first), .fire_q(valid_q),
        .lane_valid(valid_q[U-1]), .lane_data(c_lane_new), .out_data(c_new),
        .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(F_W), .REG(1'b1))
        u_f (.clk(clk), .in_data(f_act), .first(first), .out_data(f_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(I_W), .REG(1'b1))
        u_i (.clk(clk), .in_data(i_act), .first(first), .out_data(i_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(G_W), .REG(1'b1))
        u_g (.clk(clk), .in_data(g_act), .first(first), .out_data(g_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(C_W), .REG(1'b1))
        u_c (.clk(clk), .in_data(c_old), .first(first), .out_data(c_lane));

    for (genvar j = 0; j < LANES; j++) begin : g_unit
        logic signed [FE-1:0]      f;
        logic signed [FE+CE-1:0]   fc_prod_q;  // the products, MUL_LATENCY cycles later
        logic signed [IE+GE-1:0]   ig_prod_q;
        logic        [C_W-1:0]     fc_q, ig_q; // requantized two cycles later
        logic signed [C_W+1:0]     sum;
        logic        [C_W-1:0]     c_sat;
        logic signed [IE-1:0]      i_s;  // operands as signed numbers (one extra bit)
        logic signed [GE-1:0]      g_s;
        logic signed [CE-1:0]      c_s;
        // Each branch is extended inside its own cast; the results are then used only as signed.
        assign i_s = I_SIGNED ? IE'($signed(i_lane[j*I_W +: I_W])) : IE'($unsigned(i_lane[j*I_W +: I_W]));
        assign g_s = G_SIGNED ? GE'($signed(g_lane[j*G_W +: G_W])) : GE'($unsigned(g_lane[j*G_W +: G_W]));
        assign c_s = C_SIGNED ? CE'($signed(c_lane[j*C_W +: C_W])) : CE'($unsigned(c_lane[j*C_W +: C_W]));
        if (CIFG) begin : g_cifg
            assign f = FE'(ONE) - FE'(i_s);
        end else begin : g_f
            assign f = F_SIGNED ? FE'($signed(f_lane[j*F_W +: F_W])) : FE'($unsigned(f_lane[j*F_W +: F_W]));
        end
        hwgen_mul #(.A_W(FE), .B_W(CE), .MUL_STYLE(MUL_STYLE), .LATENCY(MUL_LATENCY))
            u_fc_mul (.clk(clk), .a(f), .b(c_s), .p(fc_prod_q));
        hwgen_mul #(.A_W(IE), .B_W(GE), .MUL_STYLE(MUL_STYLE), .LATENCY(MUL_LATENCY))
            u_ig_mul (.clk(clk), .a(i_s), .b(g_s), .p(ig_prod_q));
        hwgen_requant #(
            .IN_W(FE+CE), .IN_SIGNED(1'b1), .SHIFT(FC_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(C_W), .OUT_SIGNED(C_SIGNED), .OUT_MIN(C_MIN), .OUT_MAX(C_MAX), .PIPE(1'b1)
        ) u_fc (.clk(clk), .x(fc_prod_q), .y(fc_q));
        hwgen_requant #(
            .IN_W(IE+GE), .IN_SIGNED(1'b1), .SHIFT(IG_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(C_W), .OUT_SIGNED(C_SIGNED), .OUT_MIN(C_MIN), .OUT_MAX(C_MAX), .PIPE(1'b1)
        ) u_ig (.clk(clk), .x(ig_prod_q), .y(ig_q));
        assign sum = (C_SIGNED ? (C_W+2)'($signed(fc_q)) : (C_W+2)'($unsigned(fc_q)))
                   + (C_SIGNED ? (C_W+2)'($signed(ig_q)) : (C_W+2)'($unsigned(ig_q)));
        hwgen_requant #(
            .IN_W(C_W+2), .IN_SIGNED(1'b1), .SHIFT(0), .ROUNDING(ROUNDING),
            .OUT_W(C_W), .OUT_SIGNED(C_SIGNED), .OUT_MIN(C_MIN), .OUT_MAX(C_MAX)
        ) u_sum (.clk(clk), .x(sum), .y(c_sat));
        always_ff @(posedge clk) c_lane_new[j*C_W +: C_W] <= c_sat;
    end
endmodule
