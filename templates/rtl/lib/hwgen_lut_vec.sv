// hwgen_lut_vec: N lookups into one table, LANES of them per cycle (one hwgen_lut per lane, the
// chunks sequenced by hwgen_lanes). Element k of in_data (bits [k*IN_W +: IN_W]) indexes TABLE
// (or the data file TABLE_FILE when given, see hwgen_lut); out_data element k is its entry.
// LANES = N: LATENCY = 1 cycle from in_valid to out_valid (hwgen/cores.py LUT_LATENCY), one vector
// per cycle, in_data read in the in_valid cycle only, out_data held until the next out_valid.
// LANES < N: LATENCY = 1 + N/LANES (hwgen/cores.py lane_latency), a vector every N/LANES cycles
// at most, in_data held for N/LANES cycles from in_valid, out_data held until one cycle after the
// next in_valid. The LSTM engines never stall this stage, so the lookups' ready outputs are not
// used.
module hwgen_lut_vec #(
    parameter int N         = 1,
    parameter int LANES     = N,  // lookups per cycle (divides N)
    parameter int IN_W      = 8,
    parameter bit IN_SIGNED = 1'b1,
    parameter int IN_MIN    = -128,
    parameter int DEPTH     = 256,
    parameter int OUT_W     = 8,
    parameter logic [DEPTH*OUT_W-1:0] TABLE = '0,
    parameter       TABLE_FILE = ""  // "": the entries are TABLE
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [N*IN_W-1:0]  in_data,
    input  logic               in_valid,
    output logic [N*OUT_W-1:0] out_data,
    output logic               out_valid
);
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = N / LANES == 1 ? 1 : 1 + N / LANES;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (N < 1) $fatal(1, "hwgen_lut_vec: N=%0d must be positive", N);
    end

    logic                   fire, lane_valid;
    logic                  first;
    logic [LANES*IN_W-1:0]  in_lane;
    logic [LANES*OUT_W-1:0] out_lane;
    logic [LANES-1:0]       valid;

    /* verilator lint_off PINCONNECTEMPTY */  // no delay line: the lookups keep their own valid
    hwgen_lanes #(.N(N), .LANES(LANES), .W(OUT_W)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(fire), .beat(), .first(first), .fire_q(),
        .lane_valid(lane_valid), .lane_data(out_lane), .out_data(out_data), .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(N), .LANES(LANES), .W(IN_W))
        u_in (.clk(clk), .in_data(in_data), .first(first), .out_data(in_lane));

    for (genvar k = 0; k < LANES; k++) begin : g_lut
        /* verilator lint_off PINCONNECTEMPTY */  // ready is always 1: the caller never stalls
        hwgen_lut #(
            .IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .IN_MIN(IN_MIN), .DEPTH(DEPTH), .OUT_W(OUT_W),
            .TABLE(TABLE), .TABLE_FILE(TABLE_FILE)
        ) u_lut (
            .clk(clk), .rst(rst),
            .in_data(in_lane[k*IN_W +: IN_W]), .in_valid(fire), .in_ready(),
            .out_data(out_lane[k*OUT_W +: OUT_W]), .out_valid(valid[k]), .out_ready(1'b1)
        );
        /* verilator lint_on PINCONNECTEMPTY */
    end
    assign lane_valid = &valid;  // all lanes run in lockstep
endmodule
