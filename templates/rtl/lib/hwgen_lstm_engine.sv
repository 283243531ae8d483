// hwgen_lstm_engine: one direction of an LSTM layer, bit-exact with hwgen.ir.graph.step: the
// controller (hwgen_lstm_ctrl), both matrix-vector units (hwgen_mvu), the cell (hwgen_cell),
// tanh(c) (hwgen_lut_vec), the hidden requantizer (hwgen_hidden), optionally the classifier head
// (HEAD, hwgen_head) and optionally initial states from a state stream (INIT, hwgen_state_init).
//
// Gate-bank port: the gates themselves (one hwgen_gate each, with its own bias and table) sit
// outside, in the generated wrapper. The engine hands them both matrix units' results, x_acc and
// h_acc (GATES blocks of H rows each, row r at [r*ACC_W +: ACC_W]; which block belongs to which
// gate is the wrapper's business), and a start strobe, gate_start; it takes back every gate's H
// activations packed into acts (the input gate's at bit I_LSB, forget's at F_LSB, cell's at
// G_LSB, output's at O_LSB: element j of a gate of width W at LSB + j*W) and each gate's done
// (gate_done, all must be high). Under CIFG there is no forget gate: F_LSB is not read.
// The gates hold acts from gate_done until after the next gate_start (hwgen_gate's output
// register does): the hidden stage reads the output gate's activations after the cell and tanh(c)
// stages. The cell, tanh(c) and hidden stages compute LANES units per cycle over H/LANES cycles
// (hwgen_lanes); their inputs (acts, c, tanh(c)) hold still while they run, as they must.
//
// Streams: s_* carries x_t (I codes), m_* h_t (H codes) or, with HEAD, the scores (OUT_N codes)
// and the class (m_tclass, 0 without a head). With INIT, st_* carries one initial state per
// sequence (st_h, st_c: H codes each; the wrapper ties a part without a state to zero); without
// INIT st_* is not read and st_tready stays 0. Cycles are the controller's (hwgen_lstm_ctrl).
// ILV > 1: ILV sequences share the engine, interleaved on the streams step by step, with
// hwgen_lstm_ilv_ctrl (its stream protocol and cycles) as controller, which holds each one's
// h, c and output-gate activations; ILV > 1 needs INIT = 0.
// The matrix-vector units keep no result register of their own (hwgen_mvu's HOLD = 0) when
// ILV = 1: hwgen_lstm_ctrl hands them the next vector only after the gates have read the results.
// The interleaved controller issues the next vector earlier, so there they keep one (HOLD = 1).
module hwgen_lstm_engine #(
    // streams and state
    parameter int I        = 1,
    parameter int X_W      = 8,
    parameter bit X_SIGNED = 1'b1,
    parameter int H        = 1,
    parameter int H_W      = 8,
    parameter bit H_SIGNED = 1'b1,
    parameter int H_MIN    = -128,
    parameter int H_MAX    = 127,
    parameter int OUT_N    = 1,   // codes per output transfer: H, or the classes with HEAD
    parameter int OUT_W    = 8,
    parameter bit INIT     = 1'b0,
    parameter bit KEEP     = 1'b0,  // stateful: h (and c) carry across s_tlast (hwgen_lstm_ctrl)
    // matrix-vector units: GATES blocks of H rows over x (I columns) and over h (H columns)
    parameter int GATES    = 4,
    parameter int MX_PE    = 4,
    parameter int MX_SIMD  = 1,
    parameter int MX_W_W   = 4,
    parameter int MX_ACC_W = 16,
    // a fully parallel unit's weights; a folded unit does not read them (Python passes
    // MX_WEIGHTS_BITS = 1 then, so no parameter grows with the number of weights)
    parameter int MX_WEIGHTS_BITS = GATES*H*I*MX_W_W,
    parameter logic [MX_WEIGHTS_BITS-1:0] MX_WEIGHTS = '0,
    parameter MX_INIT_FILE = "",  // its weights' data file (hwgen_mvu; needed when folded)
    parameter int MX_MUL_STYLE = 0,  // products: 0 the inferred `*`, 1 logic (hwgen_mul_pp)
    parameter int MH_PE    = 4,
    parameter int MH_SIMD  = 1,
    parameter int MH_W_W   = 4,
    parameter int MH_ACC_W = 16,
    parameter int MH_WEIGHTS_BITS = GATES*H*H*MH_W_W,  // as MX_WEIGHTS_BITS
    parameter logic [MH_WEIGHTS_BITS-1:0] MH_WEIGHTS = '0,
    parameter MH_INIT_FILE = "",  // its weights' data file (hwgen_mvu; needed when folded)
    parameter int MH_MUL_STYLE = 0,
    // elementwise stages (cell, tanh(c), hidden): units per cycle, dividing H (hwgen_lanes)
    parameter int LANES    = H,
    // gate bank: where each gate's activations sit in acts
    parameter int ACTS_W   = 32,
    parameter int I_LSB    = 0,
    parameter int F_LSB    = 8,
    parameter int G_LSB    = 16,
    parameter int O_LSB    = 24,
    // cell: c' = sat(rq(f * c) + rq(i * g)) (see hwgen_cell)
    parameter int I_W      = 8,
    parameter bit I_SIGNED = 1'b0,
    parameter int F_W      = 8,
    parameter bit F_SIGNED = 1'b0,
    parameter int G_W      = 8,
    parameter bit G_SIGNED = 1'b1,
    parameter int C_W      = 8,
    parameter bit C_SIGNED = 1'b1,
    parameter int C_MIN    = -128,
    parameter int C_MAX    = 127,
    parameter int FC_SHIFT = 0,
    parameter int IG_SHIFT = 0,
    parameter int CELL_ROUNDING = 0,
    parameter bit CIFG     = 1'b0,
    parameter int ONE      = 255,
    parameter int CELL_MUL_STYLE = 0,   // hwgen_cell's products (hwgen_mul) and their latency
    parameter int CELL_MUL_LATENCY = 1,
    // tanh(c'): one entry per cell-state code from C_MIN
    parameter int T_DEPTH  = 256,
    parameter int T_W      = 8,
    parameter bit T_SIGNED = 1'b1,
    parameter logic [T_DEPTH*T_W-1:0] T_TABLE = '0,
    parameter T_TABLE_FILE = "",  // a data file replacing T_TABLE (hwgen_lut)
    // hidden: h' = rq(o * tanh(c')) to the hidden-state type (see hwgen_hidden)
    parameter int O_W      = 8,
    parameter bit O_SIGNED = 1'b0,
    parameter int HID_SHIFT = 0,
    parameter int HID_ROUNDING = 0,
    parameter int HID_MUL_STYLE = 0,    // hwgen_hidden's product (hwgen_mul) and its latency
    parameter int HID_MUL_LATENCY = 1,
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
    parameter HD_BIAS_FILE    = "",
    // interleaved sequences (hwgen_lstm_ilv_ctrl, its stream protocol): 1 = hwgen_lstm_ctrl;
    // ILV_GAP: its issue interval (hwgen/passes/cycles.py ilv_gap)
    parameter int ILV      = 1,
    parameter int ILV_GAP  = 1
) (
    input  logic                        clk,
    input  logic                        rst,
    input  logic [I*X_W-1:0]            s_tdata,
    input  logic                        s_tvalid,
    input  logic                        s_tlast,
    output logic                        s_tready,
    /* verilator lint_off UNUSEDSIGNAL */  // read only with INIT
    input  logic [H*H_W-1:0]            st_h,
    input  logic [H*C_W-1:0]            st_c,
    input  logic                        st_tvalid,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic                        st_tready,
    output logic [OUT_N*OUT_W-1:0]      m_tdata,
    output logic [CLASS_W-1:0]          m_tclass,
    output logic                        m_tvalid,
    output logic                        m_tlast,
    input  logic                        m_tready,
    // gate bank
    output logic [GATES*H*MX_ACC_W-1:0] x_acc,
    output logic [GATES*H*MH_ACC_W-1:0] h_acc,
    output logic                        gate_start,
    /* verilator lint_off UNUSEDSIGNAL */  // under CIFG the forget gate's place is empty
    input  logic [ACTS_W-1:0]           acts,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [GATES-1:0]            gate_done
);
    initial begin
        if (INIT && KEEP) $fatal(1, "hwgen_lstm_engine: KEEP with INIT is not supported");
        if (GATES != (CIFG ? 3 : 4))
            $fatal(1, "hwgen_lstm_engine: GATES=%0d but CIFG=%0d", GATES, CIFG);
        if (ILV > 1 && KEEP) $fatal(1, "hwgen_lstm_engine: KEEP with ILV > 1 is not supported");
        if (ILV > 1 && INIT)
            $fatal(1, "hwgen_lstm_engine: interleaved sequences (ILV=%0d) start from zero", ILV);
    end

    logic [I*X_W-1:0]       mx_in;
    logic [H*H_W-1:0]       mh_in, mh_mv_in, h_new;
    logic                   mv_in_valid, mx_in_ready, mh_in_ready, mx_out_valid, mh_out_valid;
    logic                   mv_out_ready;
    logic                   ctrl_tvalid, ctrl_tready;
    logic [H*C_W-1:0]       c_state, c_old, c_new;
    logic                   cell_start, cell_done, tanh_start, tanh_done;
    logic                   hidden_start, hidden_done;
    logic [H*T_W-1:0]       tanh_c;
    logic [H*F_W-1:0]       act_f;
    logic [H*O_W-1:0]       act_o;   // the output gate's activations of the hidden stage's step
    logic [H*H_W-1:0]       head_h;  // the h the head takes
    logic                   head_in_valid, head_in_ready, head_out_valid, head_out_ready;
    logic [OUT_N*OUT_W-1:0] head_scores;
    logic [CLASS_W-1:0]     head_class;

    generate
        if (INIT) begin : g_init
            hwgen_state_init #(.HW(H*H_W), .CW(H*C_W)) u_init (
                .clk(clk), .rst(rst), .s_tvalid(s_tvalid), .s_tlast(s_tlast), .s_tready(s_tready),
                .c_tvalid(ctrl_tvalid), .c_tready(ctrl_tready),
                .st_h(st_h), .st_c(st_c), .st_tvalid(st_tvalid), .st_tready(st_tready),
                .h_ctrl(mh_in), .h_mv(mh_mv_in), .c_ctrl(c_state), .c_cell(c_old)
            );
        end else begin : g_zero_init
            assign ctrl_tvalid = s_tvalid;
            assign s_tready    = ctrl_tready;
            assign st_tready   = 1'b0;
            assign mh_mv_in    = mh_in;
            assign c_old       = c_state;
        end
    endgenerate

    generate
        if (ILV > 1) begin : g_ilv  // N = ILV interleaved sequences (hwgen_lstm_ilv_ctrl)
            hwgen_lstm_ilv_ctrl #(
                .I(I), .X_W(X_W), .H(H), .H_W(H_W), .C_W(C_W), .O_W(O_W), .HEAD(HEAD),
                .OUT_N(OUT_N), .OUT_W(OUT_W), .CLASS_W(CLASS_W), .N(ILV), .GAP(ILV_GAP)
            ) u_ctrl (
                .clk(clk), .rst(rst),
                .s_tdata(s_tdata), .s_tvalid(ctrl_tvalid), .s_tlast(s_tlast),
                .s_tready(ctrl_tready),
                .m_tdata(m_tdata), .m_tclass(m_tclass), .m_tvalid(m_tvalid), .m_tlast(m_tlast),
                .m_tready(m_tready),
                .mx_in(mx_in), .mh_in(mh_in), .mv_in_valid(mv_in_valid),
                .mx_in_ready(mx_in_ready), .mh_in_ready(mh_in_ready),
                .mx_out_valid(mx_out_valid), .mh_out_valid(mh_out_valid),
                .mv_out_ready(mv_out_ready),
                .gate_start(gate_start), .gate_done(&gate_done), .acts_o(acts[O_LSB +: H*O_W]),
                .o_act(act_o), .c_new(c_new), .c_state(c_state),
                .cell_start(cell_start), .cell_done(cell_done), .tanh_start(tanh_start),
                .tanh_done(tanh_done), .hidden_start(hidden_start), .hidden_done(hidden_done),
                .h_new(h_new), .head_h(head_h),
                .head_in_valid(head_in_valid), .head_in_ready(head_in_ready),
                .head_scores(head_scores), .head_class(head_class),
                .head_out_valid(head_out_valid), .head_out_ready(head_out_ready)
            );
        end else begin : g_ctrl
        hwgen_lstm_ctrl #(
            .I(I), .X_W(X_W), .H(H), .H_W(H_W), .C_W(C_W), .RNN(1'b0), .HEAD(HEAD),
            .KEEP(KEEP), .OUT_N(OUT_N), .OUT_W(OUT_W), .CLASS_W(CLASS_W)
        ) u_ctrl (
            .clk(clk), .rst(rst),
            .s_tdata(s_tdata), .s_tvalid(ctrl_tvalid), .s_tlast(s_tlast), .s_tready(ctrl_tready),
            .m_tdata(m_tdata), .m_tclass(m_tclass), .m_tvalid(m_tvalid), .m_tlast(m_tlast),
            .m_tready(m_tready),
            .mx_in(mx_in), .mh_in(mh_in), .mv_in_valid(mv_in_valid), .mx_in_ready(mx_in_ready),
            .mh_in_ready(mh_in_ready), .mx_out_valid(mx_out_valid), .mh_out_valid(mh_out_valid),
            .mv_out_ready(mv_out_ready),
            .gate_start(gate_start), .gate_done(&gate_done), .c_new(c_new), .c_state(c_state),
            .cell_start(cell_start), .cell_done(cell_done), .tanh_start(tanh_start),
            .tanh_done(tanh_done), .hidden_start(hidden_start), .hidden_done(hidden_done),
            .h_new(h_new),
            .head_in_valid(head_in_valid), .head_in_ready(head_in_ready), .head_scores(head_scores),
            .head_class(head_class), .head_out_valid(head_out_valid), .head_out_ready(head_out_ready)
        );
            assign act_o  = acts[O_LSB +: H*O_W];
            assign head_h = mh_in;
        end
    endgenerate

    hwgen_mvu #(
        .ROWS(GATES*H), .COLS(I), .PE(MX_PE), .SIMD(MX_SIMD), .W_W(MX_W_W), .IN_W(X_W),
        .IN_SIGNED(X_SIGNED), .ACC_W(MX_ACC_W),
        .WEIGHTS_BITS(MX_WEIGHTS_BITS), .WEIGHTS(MX_WEIGHTS),
        .INIT_FILE(MX_INIT_FILE), .MUL_STYLE(MX_MUL_STYLE), .HOLD(ILV > 1)
    ) u_mx (
        .clk(clk), .rst(rst), .in_data(mx_in), .in_valid(mv_in_valid), .in_ready(mx_in_ready),
        .out_data(x_acc), .out_valid(mx_out_valid), .out_ready(mv_out_ready)
    );

    hwgen_mvu #(
        .ROWS(GATES*H), .COLS(H), .PE(MH_PE), .SIMD(MH_SIMD), .W_W(MH_W_W), .IN_W(H_W),
        .IN_SIGNED(H_SIGNED), .ACC_W(MH_ACC_W),
        .WEIGHTS_BITS(MH_WEIGHTS_BITS), .WEIGHTS(MH_WEIGHTS),
        .INIT_FILE(MH_INIT_FILE), .MUL_STYLE(MH_MUL_STYLE), .HOLD(ILV > 1)
    ) u_mh (
        .clk(clk), .rst(rst), .in_data(mh_mv_in), .in_valid(mv_in_valid), .in_ready(mh_in_ready),
        .out_data(h_acc), .out_valid(mh_out_valid), .out_ready(mv_out_ready)
    );

    generate
        if (CIFG) begin : g_cifg
            assign act_f = '0;  // the cell derives f from the input gate
        end else begin : g_forget
            assign act_f = acts[F_LSB +: H*F_W];
        end
    endgenerate

    hwgen_cell #(
        .H(H), .LANES(LANES), .F_W(F_W), .F_SIGNED(F_SIGNED), .I_W(I_W), .I_SIGNED(I_SIGNED),
        .G_W(G_W), .G_SIGNED(G_SIGNED), .C_W(C_W), .C_SIGNED(C_SIGNED), .C_MIN(C_MIN), .C_MAX(C_MAX),
        .FC_SHIFT(FC_SHIFT), .IG_SHIFT(IG_SHIFT), .ROUNDING(CELL_ROUNDING), .CIFG(CIFG), .ONE(ONE),
        .MUL_STYLE(CELL_MUL_STYLE), .MUL_LATENCY(CELL_MUL_LATENCY)
    ) u_cell (
        .clk(clk), .rst(rst), .f_act(act_f), .i_act(acts[I_LSB +: H*I_W]),
        .g_act(acts[G_LSB +: H*G_W]), .c_old(c_old), .in_valid(cell_start), .c_new(c_new),
        .out_valid(cell_done)
    );

    hwgen_lut_vec #(
        .N(H), .LANES(LANES), .IN_W(C_W), .IN_SIGNED(C_SIGNED), .IN_MIN(C_MIN), .DEPTH(T_DEPTH),
        .OUT_W(T_W), .TABLE(T_TABLE), .TABLE_FILE(T_TABLE_FILE)
    ) u_tanh_c (
        .clk(clk), .rst(rst), .in_data(c_new), .in_valid(tanh_start), .out_data(tanh_c),
        .out_valid(tanh_done)
    );

    hwgen_hidden #(
        .H(H), .LANES(LANES), .O_W(O_W), .O_SIGNED(O_SIGNED), .T_W(T_W), .T_SIGNED(T_SIGNED),
        .SHIFT(HID_SHIFT), .ROUNDING(HID_ROUNDING), .OUT_W(H_W), .OUT_SIGNED(H_SIGNED),
        .OUT_MIN(H_MIN), .OUT_MAX(H_MAX), .MUL_STYLE(HID_MUL_STYLE), .MUL_LATENCY(HID_MUL_LATENCY)
    ) u_hidden (
        .clk(clk), .rst(rst), .o_act(act_o), .t_act(tanh_c),
        .in_valid(hidden_start), .h(h_new), .out_valid(hidden_done)
    );

    generate
        if (HEAD) begin : g_head
            hwgen_head #(
                .C(CLASSES), .H(H), .IN_W(H_W), .IN_SIGNED(H_SIGNED), .W_W(HD_W_W),
                .WEIGHTS(HD_WEIGHTS), .ACC_W(HD_ACC_W), .MV_SHIFT(HD_MV_SHIFT), .SCORE_W(SCORE_W),
                .BIAS(HD_BIAS), .CLASS_W(CLASS_W), .MUL_STYLE(HD_MUL_STYLE),
                .WEIGHTS_FILE(HD_WEIGHTS_FILE), .BIAS_FILE(HD_BIAS_FILE)
            ) u_head (
                .clk(clk), .rst(rst), .in_data(head_h), .in_valid(head_in_valid),
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
            assign unused_head = head_in_valid | head_out_ready | (|head_h);
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule
