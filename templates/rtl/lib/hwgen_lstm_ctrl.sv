// hwgen_lstm_ctrl: sequencing and state of one recurrent layer direction (LSTM, or a plain RNN
// with RNN = 1), plus its stream ports.
//
// One LSTM timestep: accept x_t (s_*) and hand x_t and h to the two matrix-vector units at once;
// in the cycle the later of their two results comes, start the gate stage (hwgen_gate); when it is done, start the cell
// update (hwgen_cell); when that is done, register the new cell state and start tanh(c); when
// that is done, start the hidden requantizer (hwgen_hidden); when that is done, register the new
// hidden state. Each stage is started by the previous one's done strobe and never stalls, so a
// step takes its stages' latencies (hwgen/cores.py) one after the other.
// A plain RNN has one gate whose table maps the accumulator straight to h: h_new is that gate's
// output, registered when the gate stage is done; there is no cell update, tanh(c) or hidden stage
// (c_new, cell_done, tanh_done, hidden_done are not looked at; c_state and the starts stay 0).
// With M = the slower matrix-vector unit's latency (hwgen_mvu's LATENCY: its folds and pipeline
// registers), a step takes M + GATE + CELL + TANH + HIDDEN + 1 cycles between input transfers
// with no stalls (the stages' latencies; the last cycle registers h), one more when every h_t
// is emitted; an RNN step M + GATE + 1 (+1). hwgen/passes/cycles.py models this.
// After the sequence's last step (s_tlast) the state returns to zero, unless KEEP (stateful
// designs): then h and c carry on into the next sequence (a chunk of one long stream) and only
// rst returns them to zero. HEAD designs then run the
// head once and emit its scores and class; others emit h_t on m_* every step, with m_tlast on the
// sequence's last step.
module hwgen_lstm_ctrl #(
    parameter int I     = 1,
    parameter int X_W   = 8,
    parameter int H     = 1,
    parameter int H_W   = 8,
    parameter int C_W   = 8,
    parameter bit RNN   = 1'b0,
    parameter bit HEAD  = 1'b0,
    parameter bit KEEP  = 1'b0,  // keep h and c across s_tlast (stateful); rst clears them
    parameter int OUT_N = 1,
    parameter int OUT_W = 8,
    parameter int CLASS_W = 1
) (
    input  logic                   clk,
    input  logic                   rst,
    // design input stream: x_t codes, tlast on a sequence's last step
    input  logic [I*X_W-1:0]       s_tdata,
    input  logic                   s_tvalid,
    input  logic                   s_tlast,
    output logic                   s_tready,
    // design output stream: scores and class (HEAD) or h_t
    output logic [OUT_N*OUT_W-1:0] m_tdata,
    output logic [CLASS_W-1:0]     m_tclass,
    output logic                   m_tvalid,
    output logic                   m_tlast,
    input  logic                   m_tready,
    // matrix-vector units: x part and h part of every gate
    output logic [I*X_W-1:0]       mx_in,
    output logic [H*H_W-1:0]       mh_in,
    output logic                   mv_in_valid,
    input  logic                   mx_in_ready,
    input  logic                   mh_in_ready,
    input  logic                   mx_out_valid,
    input  logic                   mh_out_valid,
    output logic                   mv_out_ready,
    // elementwise stages
    output logic                   gate_start,
    input  logic                   gate_done,
    input  logic [H*C_W-1:0]       c_new,       // the cell stage's c
    output logic [H*C_W-1:0]       c_state,
    output logic                   cell_start,
    input  logic                   cell_done,
    output logic                   tanh_start,
    input  logic                   tanh_done,
    output logic                   hidden_start,
    input  logic                   hidden_done,
    input  logic [H*H_W-1:0]       h_new,       // the hidden stage's h (RNN: the gate's)
    // head (HEAD designs)
    output logic                   head_in_valid,
    input  logic                   head_in_ready,
    /* verilator lint_off UNUSEDSIGNAL */  // only HEAD designs read the head's outputs
    input  logic [OUT_N*OUT_W-1:0] head_scores,
    input  logic [CLASS_W-1:0]     head_class,
    input  logic                   head_out_valid,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic                   head_out_ready
);
    initial begin
        if (!HEAD && (OUT_N != H || OUT_W != H_W))
            $fatal(1, "hwgen_lstm_ctrl: a design without head emits h (OUT_N=%0d OUT_W=%0d)",
                   OUT_N, OUT_W);
    end

    typedef enum logic [3:0] {IDLE, MVU, GATE, CELL, TANH, HIDDEN, EMIT, HEAD_IN, HEAD_OUT}
        state_t;
    state_t state;
    logic [H*H_W-1:0] h_q;
    logic [H*C_W-1:0] c_q;
    logic             last_q;
    logic             x_got, h_got;      // this step's x / h unit result has come
    logic             x_there, h_there;  // ... or comes in this cycle

    assign mx_in        = s_tdata;
    assign mh_in        = h_q;
    // In IDLE both units have issued every fold of the last step's vectors, so they are ready:
    // s_tready is the state alone (not the units' in_ready, whose logic sits in the units and
    // would put their counters, the I/O and each other on one path). Simulation checks it.
    assign s_tready     = state == IDLE;
    assign mv_in_valid  = state == IDLE && s_tvalid;
`ifndef SYNTHESIS
    always_ff @(posedge clk) begin
        if (!rst && mv_in_valid && !(mx_in_ready && mh_in_ready))
            $fatal(1, "hwgen_lstm_ctrl: a matrix-vector unit is busy in IDLE");
    end
`endif
    // The units' results are taken as they come (mv_out_ready is always 1, so no unit's pipeline
    // waits on this controller's state); x_got / h_got remember a result that came before the
    // other unit's. Each unit's out_data holds its result until its next vector's result, which
    // cannot come before the next step starts.
    assign x_there      = x_got || mx_out_valid;
    assign h_there      = h_got || mh_out_valid;
    assign mv_out_ready = 1'b1;
    assign gate_start   = state == MVU && x_there && h_there;
    assign cell_start   = !RNN && state == GATE && gate_done;
    assign tanh_start   = !RNN && state == CELL && cell_done;
    assign hidden_start = !RNN && state == TANH && tanh_done;
    assign c_state      = c_q;
    assign head_in_valid  = state == HEAD_IN;
    assign head_out_ready = state == HEAD_OUT && m_tready;

    generate
        if (HEAD) begin : g_head_out
            assign m_tdata  = head_scores;
            assign m_tclass = head_class;
            assign m_tvalid = state == HEAD_OUT && head_out_valid;
        end else begin : g_h_out
            assign m_tdata  = h_q;
            assign m_tclass = '0;
            assign m_tvalid = state == EMIT;
        end
    endgenerate
    assign m_tlast = last_q;

    always_ff @(posedge clk) begin
        if (rst) begin
            state  <= IDLE;
            h_q    <= '0;
            c_q    <= '0;
            last_q <= 1'b0;
            x_got  <= 1'b0;
            h_got  <= 1'b0;
        end else begin
            case (state)
                IDLE: if (s_tvalid && s_tready) begin
                    last_q <= s_tlast;
                    state  <= MVU;
                end
                MVU: begin
                    x_got <= gate_start ? 1'b0 : x_there;
                    h_got <= gate_start ? 1'b0 : h_there;
                    if (gate_start) state <= GATE;
                end
                GATE: if (gate_done) begin
                    if (RNN) begin
                        h_q   <= h_new;
                        state <= !HEAD ? EMIT : last_q ? HEAD_IN : IDLE;
                    end else begin
                        state <= CELL;
                    end
                end
                CELL: if (cell_done) begin
                    c_q   <= c_new;
                    state <= TANH;
                end
                TANH: if (tanh_done) state <= HIDDEN;
                HIDDEN: if (hidden_done) begin
                    h_q   <= h_new;
                    state <= !HEAD ? EMIT : last_q ? HEAD_IN : IDLE;
                end
                EMIT: if (m_tready) begin
                    if (last_q && !KEEP) begin
                        h_q <= '0;
                        c_q <= '0;
                    end
                    state <= IDLE;
                end
                HEAD_IN: if (head_in_ready) begin  // the head has taken h_T: clear the state
                    if (!KEEP) begin
                        h_q <= '0;
                        c_q <= '0;
                    end
                    state <= HEAD_OUT;
                end
                HEAD_OUT: if (head_out_valid && m_tready) state <= IDLE;
                default: state <= IDLE;
            endcase
        end
    end
endmodule
