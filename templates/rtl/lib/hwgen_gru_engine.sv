// hwgen_gru_engine: one direction of a GRU layer, bit-exact with hwgen.ir.graph.gru_step: the
// controller (hwgen_lstm_ctrl with RNN = 1: one elementwise stage whose result is the new h), both
// matrix-vector units (hwgen_mvu, 3H rows each: the reset, update and new gates' rows),
// optionally the classifier head (HEAD, hwgen_head) and optionally initial states from a state
// stream (INIT, hwgen_state_init).
//
// Gate-bank port: the engine hands the GRU cell (hwgen_gru_cell) both matrix units' results,
// x_acc and h_acc (3H rows each, row r at [r*ACC_W +: ACC_W]), the h the step started from,
// h_step, and a start strobe, gate_start; it takes back the new hidden state, acts, and the
// cell's done, gate_done. h_step is the controller's h, or with INIT the h the h unit took on the
// step's input transfer (kept in a register of H*H_W bits: a sequence's first h comes from the
// state stream in that cycle only).
//
// Streams: s_* carries x_t (I codes), m_* h_t (H codes) or, with HEAD, the scores (OUT_N codes)
// and the class (m_tclass, 0 without a head). With INIT, st_* carries one initial h per sequence;
// without INIT st_* is not read and st_tready stays 0. Cycles are the controller's (a step:
// the slower unit's latency + the cell's + 1, as a plain RNN's with the cell as its gate).
module hwgen_gru_engine #(
    // streams and state
    parameter int I        = 1,
    parameter int X_W      = 8,
    parameter bit X_SIGNED = 1'b1,
    parameter int H        = 1,
    parameter int H_W      = 8,
    parameter bit H_SIGNED = 1'b1,
    parameter int OUT_N    = 1,   // codes per output transfer: H, or the classes with HEAD
    parameter int OUT_W    = 8,
    parameter bit INIT     = 1'b0,
    parameter bit KEEP     = 1'b0,  // stateful: h (and c) carry across s_tlast (hwgen_lstm_ctrl)
    // matrix-vector units: 3H rows over x (I columns) and over h (H columns)
    parameter int MX_PE    = 3*H,  // defaults: fully parallel
    parameter int MX_SIMD  = I,
    parameter int MX_W_W   = 4,
    parameter int MX_ACC_W = 16,
    // a fully parallel unit's weights; a folded unit does not read them (Python passes
    // MX_WEIGHTS_BITS = 1 then, so no parameter grows with the number of weights)
    parameter int MX_WEIGHTS_BITS = 3*H*I*MX_W_W,
    parameter logic [MX_WEIGHTS_BITS-1:0] MX_WEIGHTS = '0,
    parameter MX_INIT_FILE = "",  // its weights' data file (hwgen_mvu; needed when folded)
    parameter int MX_MUL_STYLE = 0,  // products: 0 the inferred `*`, 1 logic (hwgen_mul_pp)
    parameter int MH_PE    = 3*H,
    parameter int MH_SIMD  = H,
    parameter int MH_W_W   = 4,
    parameter int MH_ACC_W = 16,
    parameter int MH_WEIGHTS_BITS = 3*H*H*MH_W_W,  // as MX_WEIGHTS_BITS
    parameter logic [MH_WEIGHTS_BITS-1:0] MH_WEIGHTS = '0,
    parameter MH_INIT_FILE = "",  // its weights' data file (hwgen_mvu; needed when folded)
    parameter int MH_MUL_STYLE = 0,
    // head (HEAD): scores and class of the sequence's last h (see hwgen_head)
    parameter bit HEAD     = 1'b0,
    parameter int CLASSES  = 2,
    parameter int HD_W_W   = 8,
    parameter logic [CLASSES*H*HD_W_W-1:0] HD_WEIGHTS = '0,
    parameter int HD_ACC_W = 16,
    parameter int HD_MV_SHIFT = 0,
    parameter int SCORE_W  = 24,
    parameter logic [CLASSES*SCORE_W-1:0] HD_BIAS = '0,
    parameter int HD_MUL_STYLE = 0,
    parameter int CLASS_W  = 1,
    parameter HD_WEIGHTS_FILE = "",  // data files replacing HD_WEIGHTS and HD_BIAS (hwgen_head)
    parameter HD_BIAS_FILE    = ""
) (
    input  logic                   clk,
    input  logic                   rst,
    input  logic [I*X_W-1:0]       s_tdata,
    input  logic                   s_tvalid,
    input  logic                   s_tlast,
    output logic                   s_tready,
    /* verilator lint_off UNUSEDSIGNAL */  // read only with INIT
    input  logic [H*H_W-1:0]       st_h,
    input  logic                   st_tvalid,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic                   st_tready,
    output logic [OUT_N*OUT_W-1:0] m_tdata,
    output logic [CLASS_W-1:0]     m_tclass,
    output logic                   m_tvalid,
    output logic                   m_tlast,
    input  logic                   m_tready,
    // gate bank
    output logic [3*H*MX_ACC_W-1:0] x_acc,
    output logic [3*H*MH_ACC_W-1:0] h_acc,
    output logic [H*H_W-1:0]       h_step,
    output logic                   gate_start,
    input  logic [H*H_W-1:0]       acts,
    input  logic                   gate_done
);
    logic [I*X_W-1:0]       mx_in;
    logic [H*H_W-1:0]       mh_in, mh_mv_in;
    logic                   mv_in_valid, mx_in_ready, mh_in_ready, mx_out_valid, mh_out_valid;
    logic                   mv_out_ready;
    logic                   ctrl_tvalid, ctrl_tready;
    logic                   head_in_valid, head_in_ready, head_out_valid, head_out_ready;
    logic [OUT_N*OUT_W-1:0] head_scores;
    logic [CLASS_W-1:0]     head_class;

    generate
        if (INIT) begin : g_init
            /* verilator lint_off PINCONNECTEMPTY */  // a GRU has no cell state
            hwgen_state_init #(.HW(H*H_W), .CW(1)) u_init (
                .clk(clk), .rst(rst), .s_tvalid(s_tvalid), .s_tlast(s_tlast), .s_tready(s_tready),
                .c_tvalid(ctrl_tvalid), .c_tready(ctrl_tready),
                .st_h(st_h), .st_c(1'b0), .st_tvalid(st_tvalid), .st_tready(st_tready),
                .h_ctrl(mh_in), .h_mv(mh_mv_in), .c_ctrl(1'b0), .c_cell()
            );
            /* verilator lint_on PINCONNECTEMPTY */
        end else begin : g_zero_init
            assign ctrl_tvalid = s_tvalid;
            assign s_tready    = ctrl_tready;
            assign st_tready   = 1'b0;
            assign mh_mv_in    = mh_in;
        end
    endgenerate

    generate
        if (INIT) begin : g_h_step  // the first step's h is on mh_mv_in in its transfer only
            always_ff @(posedge clk) if (mv_in_valid) h_step <= mh_mv_in;
        end else begin : g_h_ctrl   // the controller's h holds until the step's end
            assign h_step = mh_in;
        end
    endgenerate

    initial begin
        if (INIT && KEEP) $fatal(1, "hwgen_gru_engine: KEEP with INIT is not supported");
    end

    /* verilator lint_off PINCONNECTEMPTY */  // the GRU cell is the controller's one stage
    hwgen_lstm_ctrl #(
        .I(I), .X_W(X_W), .H(H), .H_W(H_W), .C_W(1), .RNN(1'b1), .HEAD(HEAD), .KEEP(KEEP),
        .OUT_N(OUT_N), .OUT_W(OUT_W), .CLASS_W(CLASS_W)
    ) u_ctrl (
        .clk(clk), .rst(rst),
        .s_tdata(s_tdata), .s_tvalid(ctrl_tvalid), .s_tlast(s_tlast), .s_tready(ctrl_tready),
        .m_tdata(m_tdata), .m_tclass(m_tclass), .m_tvalid(m_tvalid), .m_tlast(m_tlast),
        .m_tready(m_tready),
        .mx_in(mx_in), .mh_in(mh_in), .mv_in_valid(mv_in_valid), .mx_in_ready(mx_in_ready),
        .mh_in_ready(mh_in_ready), .mx_out_valid(mx_out_valid), .mh_out_valid(mh_out_valid),
        .mv_out_ready(mv_out_ready),
        .gate_start(gate_start), .gate_done(gate_done), .c_new('0), .c_state(),
        .cell_start(), .cell_done(1'b0), .tanh_start(), .tanh_done(1'b0), .hidden_start(),
        .hidden_done(1'b0), .h_new(acts),
        .head_in_valid(head_in_valid), .head_in_ready(head_in_ready), .head_scores(head_scores),
        .head_class(head_class), .head_out_valid(head_out_valid), .head_out_ready(head_out_ready)
    );
    /* verilator lint_on PINCONNECTEMPTY */

    hwgen_mvu #(
        .ROWS(3*H), .COLS(I), .PE(MX_PE), .SIMD(MX_SIMD), .W_W(MX_W_W), .IN_W(X_W),
        .IN_SIGNED(X_SIGNED), .ACC_W(MX_ACC_W),
        .WEIGHTS_BITS(MX_WEIGHTS_BITS), .WEIGHTS(MX_WEIGHTS),
        .INIT_FILE(MX_INIT_FILE), .MUL_STYLE(MX_MUL_STYLE)
    ) u_mx (
        .clk(clk), .rst(rst), .in_data(mx_in), .in_valid(mv_in_valid), .in_ready(mx_in_ready),
        .out_data(x_acc), .out_valid(mx_out_valid), .out_ready(mv_out_ready)
    );

    hwgen_mvu #(
        .ROWS(3*H), .COLS(H), .PE(MH_PE), .SIMD(MH_SIMD), .W_W(MH_W_W), .IN_W(H_W),
        .IN_SIGNED(H_SIGNED), .ACC_W(MH_ACC_W),
        .WEIGHTS_BITS(MH_WEIGHTS_BITS), .WEIGHTS(MH_WEIGHTS),
        .INIT_FILE(MH_INIT_FILE), .MUL_STYLE(MH_MUL_STYLE)
    ) u_mh (
        .clk(clk), .rst(rst), .in_data(mh_mv_in), .in_valid(mv_in_valid), .in_ready(mh_in_ready),
        .out_data(h_acc), .out_valid(mh_out_valid), .out_ready(mv_out_ready)
    );

    generate
        if (HEAD) begin : g_head
            hwgen_head #(
                .C(CLASSES), .H(H), .IN_W(H_W), .IN_SIGNED(H_SIGNED), .W_W(HD_W_W),
                .WEIGHTS(HD_WEIGHTS), .ACC_W(HD_ACC_W), .MV_SHIFT(HD_MV_SHIFT), .SCORE_W(SCORE_W),
                .BIAS(HD_BIAS), .CLASS_W(CLASS_W), .MUL_STYLE(HD_MUL_STYLE),
                .WEIGHTS_FILE(HD_WEIGHTS_FILE), .BIAS_FILE(HD_BIAS_FILE)
            ) u_head (
                .clk(clk), .rst(rst), .in_data(mh_in), .in_valid(head_in_valid),
                .in_ready(head_in_ready), .scores(head_scores), .class_idx(head_class),
                .out_valid(head_out_valid), .out_ready(head_out_ready)
            );
        end else begin : g_no_head  // tie off the controller's head ports
            assign head_in_ready  = 1'b1;
            assign head_scores    = '0;
            assign head_class     = '0;
            assign head_out_valid = 1'b0;
            /* verilator lint_off UNUSEDSIGNAL */  // nothing consumes head requests
            logic unused_head;
            assign unused_head = head_in_valid | head_out_ready;
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule
