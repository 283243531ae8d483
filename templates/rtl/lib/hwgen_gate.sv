// hwgen_gate: one LSTM gate for all H units, bit-exact with hwgen.ir.graph's gate step:
//   sum[j] = (x_acc[j] <<< X_SHIFT) + (h_acc[j] <<< H_SHIFT) + BIAS[j]     (exact, SUM_W bits)
//   acc[j] = requantize(sum[j]) to the gate's accumulator quantizer (ACC_*)
//   act[j] = TABLE[acc[j] - ACC_MIN]                                      (sigmoid or tanh)
// x_acc and h_acc are the gate's rows of the two matrix-vector units (signed AX_W / AH_W bits).
// Pipeline, one register per step: x_acc + h_acc; plus the bias; the rounded and then the
// saturated accumulator (hwgen_requant with PIPE); the table entry.
// LANES units are computed per cycle (hwgen_lanes: chunk b of the units in the b-th cycle after
// in_valid; the biases are a per-chunk table, the activation table is shared by the lanes); the
// chunk's accumulators and bias are registered first (hwgen_lane_shift with REG), one more step.
// LANES = H: LATENCY = 5 cycles from in_valid to out_valid (hwgen/cores.py GATE_LATENCY), a new
// vector may enter in every cycle, x_acc and h_acc are read in the in_valid cycle only and act
// holds its value from out_valid until the next out_valid. LANES < H: LATENCY = 6 + H/LANES
// (hwgen/cores.py lane_latency with reg_select), a new vector every H/LANES cycles at most, x_acc
// and h_acc held for H/LANES cycles from in_valid, act held until 6 cycles after the next
// in_valid (hwgen_lanes). Nothing stalls.
module hwgen_gate #(
    parameter int H        = 1,
    parameter int LANES    = H,  // units per cycle (divides H)
    parameter int AX_W     = 16,
    parameter int AH_W     = 16,
    parameter int X_SHIFT  = 0,
    parameter int H_SHIFT  = 0,
    parameter int SUM_W    = 18,
    parameter logic [H*SUM_W-1:0] BIAS = '0,
    parameter int ACC_SHIFT = 0,
    parameter int ROUNDING  = 0,
    parameter int ACC_W     = 8,
    parameter bit ACC_SIGNED = 1'b1,
    parameter int ACC_MIN   = -128,
    parameter int ACC_MAX   = 127,
    parameter int ACT_W     = 8,
    parameter logic [(ACC_MAX-ACC_MIN+1)*ACT_W-1:0] TABLE = '0,
    parameter BIAS_FILE  = "",  // data files replacing BIAS and TABLE (hwgen_lane_sel, hwgen_lut)
    parameter TABLE_FILE = ""
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [H*AX_W-1:0]  x_acc,
    input  logic [H*AH_W-1:0]  h_acc,
    input  logic               in_valid,
    output logic [H*ACT_W-1:0] act,
    output logic               out_valid
);
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = H / LANES == 1 ? 5 : 6 + H / LANES;
    /* verilator lint_on UNUSEDPARAM */
    localparam bit SEL = H / LANES > 1;  // the chunk select is registered (one cycle)
    localparam int PRE = SEL + 4;        // a chunk's start -> its requantized accumulator

    // The sum is computed modulo 2**SUM_W: SUM_W holds the gate's exact sum range (derived in
    // Python from the weights), so wrapped intermediate terms cannot change the result.
    initial begin
        if (X_SHIFT < 0 || H_SHIFT < 0 || SUM_W < 2)
            $fatal(1, "hwgen_gate: shifts %0d/%0d must be >= 0 and SUM_W=%0d >= 2",
                   X_SHIFT, H_SHIFT, SUM_W);
    end

    localparam int BW = H / LANES > 1 ? $clog2(H / LANES) : 1;
    logic                   lane_valid;        // a chunk leaves the lanes
    logic [BW-1:0]          beat;
    logic                   first;
    logic [LANES*AX_W-1:0]  x_lane;
    logic [LANES*AH_W-1:0]  h_lane;
    logic [LANES*SUM_W-1:0] bias_lane;         // zero for a layer without bias
    logic [LANES*SUM_W-1:0] bias_sel;          // bias_lane beside x_lane and h_lane
    logic [LANES*ACT_W-1:0] act_lane;
    /* verilator lint_off UNUSEDSIGNAL */  // the tables take the chunk's start PRE cycles later
    logic [PRE-1:0]         valid_q;  // a chunk's start delayed by 1 .. PRE cycles (hwgen_lanes)
    /* verilator lint_on UNUSEDSIGNAL */
    logic [LANES*ACC_W-1:0] acc_q;    // stages 2 and 3: the requantized sums

    /* verilator lint_off PINCONNECTEMPTY */  // the lanes' own valid line (fire_q) is enough
    hwgen_lanes #(.N(H), .LANES(LANES), .W(ACT_W), .DELAY(PRE)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(), .beat(beat), .first(first), .fire_q(valid_q),
        .lane_valid(lane_valid), .lane_data(act_lane), .out_data(act), .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(AX_W), .REG(1'b1))
        u_x (.clk(clk), .in_data(x_acc), .first(first), .out_data(x_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(AH_W), .REG(1'b1))
        u_h (.clk(clk), .in_data(h_acc), .first(first), .out_data(h_lane));
    hwgen_lane_sel #(.N(H), .LANES(LANES), .W(SUM_W), .FILE(BIAS_FILE))
        u_bias (.in_data(BIAS), .beat(beat), .out_data(bias_lane));
    generate
        if (SEL) begin : g_bias_reg
            always_ff @(posedge clk) bias_sel <= bias_lane;
        end else begin : g_bias
            assign bias_sel = bias_lane;
        end
    endgenerate

    for (genvar j = 0; j < LANES; j++) begin : g_unit
        logic signed [SUM_W-1:0] xh_q, bias_q, sum_q;  // stage 1: x + h (bias beside), 2: sum
        always_ff @(posedge clk) begin
            xh_q   <= (SUM_W'($signed(x_lane[j*AX_W +: AX_W])) <<< X_SHIFT)
                    + (SUM_W'($signed(h_lane[j*AH_W +: AH_W])) <<< H_SHIFT);
            bias_q <= $signed(bias_sel[j*SUM_W +: SUM_W]);
            sum_q  <= xh_q + bias_q;
        end
        hwgen_requant #(
            .IN_W(SUM_W), .IN_SIGNED(1'b1), .SHIFT(ACC_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(ACC_W), .OUT_SIGNED(ACC_SIGNED), .OUT_MIN(ACC_MIN), .OUT_MAX(ACC_MAX),
            .PIPE(1'b1)
        ) u_acc (.clk(clk), .x(sum_q), .y(acc_q[j*ACC_W +: ACC_W]));
    end

    hwgen_lut_vec #(
        .N(LANES), .IN_W(ACC_W), .IN_SIGNED(ACC_SIGNED), .IN_MIN(ACC_MIN),
        .DEPTH(ACC_MAX - ACC_MIN + 1), .OUT_W(ACT_W), .TABLE(TABLE),
        .TABLE_FILE(TABLE_FILE)
    ) u_act (
        .clk(clk), .rst(rst), .in_data(acc_q), .in_valid(valid_q[PRE-1]), .out_data(act_lane),
        .out_valid(lane_valid)
    );
endmodule
