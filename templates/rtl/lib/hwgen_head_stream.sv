// hwgen_head_stream: the linear head (hwgen_head) on a stream: every element in (e.g. a layer's
// h_t at every step, task per_step) leaves as its scores and class, with its s_tlast carried to
// m_tlast. Bit-exact with hwgen.ir.graph.execute_head on each element.
//
// Handshake: hwgen_head holds one element at a time: s_tready = the head is empty (a register);
// m_tdata, m_tclass and m_tlast hold until m_tready; m_tvalid depends on registers only. The
// element's s_tlast is registered on its input transfer and kept until its result has left.
//
// Timing, with no stalls (hwgen/cores.py head_latency models it; C classes, S adder-tree
// registers, see hwgen_head.sv):
//   latency, s transfer -> m_tvalid = C + S + 4   (LATENCY)
//   cycles per element              = C + S + 5   (the next element is taken the cycle after the
//                                                  result has left)
module hwgen_head_stream #(
    parameter int C           = 2,
    parameter int H           = 1,
    parameter int IN_W        = 8,
    parameter bit IN_SIGNED   = 1'b1,
    parameter int W_W         = 8,
    /* verilator lint_off WIDTHCONCAT */  // see hwgen_head.sv: the top always binds WEIGHTS
    parameter logic [C*H*W_W-1:0] WEIGHTS = '0,
    /* verilator lint_on WIDTHCONCAT */
    parameter int ACC_W       = 16,
    parameter int MV_SHIFT    = 0,
    parameter int SCORE_W     = 24,
    parameter logic [C*SCORE_W-1:0] BIAS = '0,
    parameter int CLASS_W     = 1,
    parameter int TREE_LEVELS = 2,
    parameter int MUL_STYLE   = 0,
    parameter     WEIGHTS_FILE = "",  // data files replacing WEIGHTS and BIAS (see hwgen_head.sv)
    parameter     BIAS_FILE    = ""
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic [H*IN_W-1:0]    s_tdata,
    input  logic                 s_tvalid,
    input  logic                 s_tlast,
    output logic                 s_tready,
    output logic [C*SCORE_W-1:0] m_tdata,
    output logic [CLASS_W-1:0]   m_tclass,
    output logic                 m_tvalid,
    output logic                 m_tlast,
    input  logic                 m_tready
);
    initial begin
        if (C < 1 || H < 1)
            $fatal(1, "hwgen_head_stream: C=%0d and H=%0d must be >= 1", C, H);
    end

    logic last_q;  // s_tlast of the element in the head

    hwgen_head #(
        .C(C), .H(H), .IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .W_W(W_W), .WEIGHTS(WEIGHTS),
        .ACC_W(ACC_W), .MV_SHIFT(MV_SHIFT), .SCORE_W(SCORE_W), .BIAS(BIAS), .CLASS_W(CLASS_W),
        .TREE_LEVELS(TREE_LEVELS), .MUL_STYLE(MUL_STYLE), .WEIGHTS_FILE(WEIGHTS_FILE),
        .BIAS_FILE(BIAS_FILE)
    ) u_head (
        .clk(clk), .rst(rst),
        .in_data(s_tdata), .in_valid(s_tvalid), .in_ready(s_tready),
        .scores(m_tdata), .class_idx(m_tclass), .out_valid(m_tvalid), .out_ready(m_tready)
    );

    always_ff @(posedge clk) begin
        if (rst) last_q <= 1'b0;
        else if (s_tvalid && s_tready) last_q <= s_tlast;
    end
    assign m_tlast = last_q;
endmodule
