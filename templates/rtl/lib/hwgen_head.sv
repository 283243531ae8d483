// hwgen_head: the linear classifier head, bit-exact with hwgen.ir.graph.execute_head:
//   score[k] = (sum_j W[k][j] * h[j]) <<< MV_SHIFT + BIAS[k]     (exact, SCORE_W bits)
//   class    = the first k with the largest score (torch.argmax's tie rule)
// The matrix-vector product runs fully parallel (hwgen_mvu, PE = C, SIMD = H); the scores and
// the class leave through one more register. Latency: in transfer -> out_valid = LATENCY.
// out_data holds its value until out_ready; in_ready is high when the head is free.
module hwgen_head #(
    parameter int C         = 2,
    parameter int H         = 1,
    parameter int IN_W      = 8,
    parameter bit IN_SIGNED = 1'b1,
    parameter int W_W       = 8,
    parameter logic [C*H*W_W-1:0] WEIGHTS = '0,
    parameter int ACC_W     = 16,
    parameter int MV_SHIFT  = 0,
    parameter int SCORE_W   = 24,
    parameter logic [C*SCORE_W-1:0] BIAS = '0,
    parameter int CLASS_W   = 1
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic [H*IN_W-1:0]    in_data,
    input  logic                 in_valid,
    output logic                 in_ready,
    output logic [C*SCORE_W-1:0] scores,
    output logic [CLASS_W-1:0]   class_idx,
    output logic                 out_valid,
    input  logic                 out_ready
);
    /* verilator lint_off UNUSEDPARAM */  // published for the cycle model's tests
    localparam int LATENCY = 3;  // hwgen_mvu (fully parallel) 2 + the score register 1
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (C < 2 || (1 << CLASS_W) < C)
            $fatal(1, "hwgen_head: CLASS_W=%0d cannot index %0d classes", CLASS_W, C);
        // Scores are computed modulo 2**SCORE_W: SCORE_W holds the exact score range (derived in
        // Python), so a wider accumulator wrapping on the way cannot change the result.
        if (MV_SHIFT < 0 || SCORE_W < 2)
            $fatal(1, "hwgen_head: MV_SHIFT=%0d must be >= 0 and SCORE_W=%0d >= 2", MV_SHIFT,
                   SCORE_W);
    end

    logic [C*ACC_W-1:0] acc;
    logic acc_valid, acc_ready;
    hwgen_mvu #(
        .ROWS(C), .COLS(H), .PE(C), .SIMD(H), .W_W(W_W), .IN_W(IN_W), .IN_SIGNED(IN_SIGNED),
        .ACC_W(ACC_W), .WEIGHTS(WEIGHTS)
    ) u_mv (
        .clk(clk), .rst(rst), .in_data(in_data), .in_valid(in_valid), .in_ready(in_ready),
        .out_data(acc), .out_valid(acc_valid), .out_ready(acc_ready)
    );

    logic [C*SCORE_W-1:0] score_d;
    logic [CLASS_W-1:0]   class_d;
    always_comb begin
        logic signed [SCORE_W-1:0] best;
        best = '0;
        class_d = '0;
        for (int k = 0; k < C; k++) begin
            logic signed [SCORE_W-1:0] s;
            s = (SCORE_W'($signed(acc[k*ACC_W +: ACC_W])) <<< MV_SHIFT)
                + $signed(BIAS[k*SCORE_W +: SCORE_W]);
            score_d[k*SCORE_W +: SCORE_W] = s;
            if (k == 0 || s > best) begin
                best = s;
                class_d = CLASS_W'(k);
            end
        end
    end

    assign acc_ready = !out_valid || out_ready;
    always_ff @(posedge clk) begin
        if (acc_valid && acc_ready) begin
            scores    <= score_d;
            class_idx <= class_d;
        end
        if (rst) out_valid <= 1'b0;
        else if (acc_ready) out_valid <= acc_valid;
    end
endmodule
