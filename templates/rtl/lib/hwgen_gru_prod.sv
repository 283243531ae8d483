// hwgen_gru_prod: p[j] = a[j] * b[j] for all N units (exact; each operand widened by one bit, so
// an unsigned code is a non-negative signed one): a GRU cell's r * hn. Pipeline: hwgen_mul in
// MUL_STYLE, MUL_LATENCY cycles (hwgen/cores.py mul_latency). LANES units per cycle
// (hwgen_lanes). LANES = N: LATENCY = MUL_LATENCY cycles from in_valid to out_valid, a and b
// read in the in_valid cycle only. LANES < N: LATENCY = MUL_LATENCY + N/LANES (hwgen/cores.py
// lane_latency), a vector every N/LANES cycles at most. p holds from out_valid until the next
// vector's first chunk is done. Nothing stalls.
module hwgen_gru_prod #(
    parameter int N        = 1,
    parameter int LANES    = N,  // units per cycle (divides N)
    parameter int A_W      = 8,
    parameter bit A_SIGNED = 1'b0,
    parameter int B_W      = 8,
    parameter bit B_SIGNED = 1'b1,
    parameter int MUL_STYLE = 0,
    parameter int MUL_LATENCY = 1,
    localparam int P_W = A_W + B_W + 2
) (
    input  logic             clk,
    input  logic             rst,
    input  logic [N*A_W-1:0] a,
    input  logic [N*B_W-1:0] b,
    input  logic             in_valid,
    output logic [N*P_W-1:0] p,
    output logic             out_valid
);
    localparam int U = MUL_LATENCY;
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = U + (N / LANES == 1 ? 0 : N / LANES);
    /* verilator lint_on UNUSEDPARAM */

    logic                 first;
    logic [U-1:0]         valid_q;
    logic [LANES*A_W-1:0] a_lane;
    logic [LANES*B_W-1:0] b_lane;
    logic [LANES*P_W-1:0] p_lane;

    /* verilator lint_off PINCONNECTEMPTY */  // the lanes' own valid line (fire_q) is enough
    hwgen_lanes #(.N(N), .LANES(LANES), .W(P_W), .DELAY(U)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(), .beat(), .first(first),
        .fire_q(valid_q), .lane_valid(valid_q[U-1]), .lane_data(p_lane), .out_data(p),
        .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(N), .LANES(LANES), .W(A_W))
        u_a (.clk(clk), .in_data(a), .first(first), .out_data(a_lane));
    hwgen_lane_shift #(.N(N), .LANES(LANES), .W(B_W))
        u_b (.clk(clk), .in_data(b), .first(first), .out_data(b_lane));

    for (genvar j = 0; j < LANES; j++) begin : g_unit
        logic signed [A_W:0] a_s;
        logic signed [B_W:0] b_s;
        assign a_s = {A_SIGNED & a_lane[j*A_W + A_W - 1], a_lane[j*A_W +: A_W]};
        assign b_s = {B_SIGNED & b_lane[j*B_W + B_W - 1], b_lane[j*B_W +: B_W]};
        hwgen_mul #(.A_W(A_W + 1), .B_W(B_W + 1), .MUL_STYLE(MUL_STYLE), .LATENCY(MUL_LATENCY))
            u_mul (.clk(clk), .a(a_s), .b(b_s), .p(p_lane[j*P_W +: P_W]));
    end
endmodule
