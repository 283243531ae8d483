// hwgen_gru_hn: hn[j] = hidden_acc((h_acc[j] <<< SHIFT) + BIAS[j]) for all H units of a GRU
// cell, bit-exact with hwgen.ir.graph.gru_step: the h part of the new gate before the product
// with r. The sum is computed modulo 2**SUM_W, which holds its exact range (derived in Python).
// Pipeline: the sum, then hwgen_requant with PIPE (2). LANES units per cycle (hwgen_lanes).
// LANES = H: LATENCY = 3 cycles from in_valid to out_valid; h_acc is read in the in_valid cycle
// only. LANES < H: LATENCY = 3 + H/LANES (hwgen/cores.py lane_latency), a vector every H/LANES
// cycles at most. hn holds from out_valid until the next vector's first chunk is done. Nothing
// stalls.
module hwgen_gru_hn #(
    parameter int H        = 1,
    parameter int LANES    = H,  // units per cycle (divides H)
    parameter int AH_W     = 16,
    parameter int SHIFT    = 0,
    parameter int SUM_W    = 18,
    parameter logic [H*SUM_W-1:0] BIAS = '0,
    parameter int ACC_SHIFT = 0,
    parameter int ROUNDING = 0,
    parameter int OUT_W    = 8,
    parameter bit OUT_SIGNED = 1'b1,
    parameter int OUT_MIN  = -128,
    parameter int OUT_MAX  = 127,
    parameter     BIAS_FILE = ""  // a data file replacing BIAS (hwgen_lane_sel)
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [H*AH_W-1:0]  h_acc,
    input  logic               in_valid,
    output logic [H*OUT_W-1:0] hn,
    output logic               out_valid
);
    localparam int U = 3;  // the lanes' latency: sum, rounded, saturated
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = U + (H / LANES == 1 ? 0 : H / LANES);
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (SHIFT < 0 || SUM_W < 2)
            $fatal(1, "hwgen_gru_hn: SHIFT=%0d must be >= 0 and SUM_W=%0d >= 2", SHIFT, SUM_W);
    end

    localparam int BW = H / LANES > 1 ? $clog2(H / LANES) : 1;
    logic [BW-1:0]          beat;
    logic                   first;
    logic [U-1:0]           valid_q;
    logic [LANES*AH_W-1:0]  h_lane;
    logic [LANES*SUM_W-1:0] bias_lane;
    logic [LANES*OUT_W-1:0] hn_lane;

    /* verilator lint_off PINCONNECTEMPTY */  // the lanes' own valid line (fire_q) is enough
    hwgen_lanes #(.N(H), .LANES(LANES), .W(OUT_W), .DELAY(U)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(), .beat(beat), .first(first),
        .fire_q(valid_q), .lane_valid(valid_q[U-1]), .lane_data(hn_lane), .out_data(hn),
        .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(AH_W))
        u_h (.clk(clk), .in_data(h_acc), .first(first), .out_data(h_lane));
    hwgen_lane_sel #(.N(H), .LANES(LANES), .W(SUM_W), .FILE(BIAS_FILE))
        u_bias (.in_data(BIAS), .beat(beat), .out_data(bias_lane));

    for (genvar j = 0; j < LANES; j++) begin : g_unit
        logic signed [SUM_W-1:0] sum_q;
        always_ff @(posedge clk)
            sum_q <= (SUM_W'($signed(h_lane[j*AH_W +: AH_W])) <<< SHIFT)
                   + $signed(bias_lane[j*SUM_W +: SUM_W]);
        hwgen_requant #(
            .IN_W(SUM_W), .IN_SIGNED(1'b1), .SHIFT(ACC_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_MIN(OUT_MIN), .OUT_MAX(OUT_MAX),
            .PIPE(1'b1)
        ) u_acc (.clk(clk), .x(sum_q), .y(hn_lane[j*OUT_W +: OUT_W]));
    end
endmodule
