// hwgen_lstm_ilv_ctrl: sequencing and state of one LSTM direction shared by N interleaved
// sequences (slots 0 .. N-1), plus its stream ports. hwgen_lstm_ctrl is the N = 1 controller.
//
// Stream protocol: N sequences of equal length enter round-robin, step t of slot 0, 1, ..., N-1,
// then step t+1 of slot 0, ...; s_tlast marks each sequence's last step (the last N transfers of
// a group). Outputs leave in the same slot order: without HEAD one h_t per input transfer (m_tlast
// on each sequence's last step); with HEAD one scores transfer per sequence (m_tlast always 1).
// After a sequence's last step its slot's state returns to zero; the next group follows at once.
//
// Schedule: each slot's step runs through the same stages as with hwgen_lstm_ctrl, each started
// by the previous one's done strobe (matrix-vector units, gate, cell, tanh(c), hidden), so a step
// still takes their latencies one after the other; but the next slot's step is issued to the
// matrix-vector units as soon as (1) GAP cycles have passed since the previous issue, (2) the
// slot's previous step has registered its h (and, without HEAD, that h has left on m_*; with
// HEAD, the head has taken the slot's last h). GAP is chosen by hwgen/passes/cycles.py
// (ilv_gap) so that no stage gets a new vector before it can take one and no stage's result is
// overwritten while the next stage reads it; the stages then never stall and their done strobes
// come in slot order, so each bank's slot is a counter of its strobe.
// State: a bank per slot of h, c and the output gate's activations (captured at gate_done, read
// by the hidden stage), all registers. Cycles (no stalls, output always ready), with
// L = the issue -> hidden_done latency: slot s's next step is issued at the earliest L + 1
// cycles after its step (HEAD), L + 2 without HEAD (the emit cycle), and GAP cycles after the
// previous issue, so in steady state one step of each of the N sequences takes
// max(N * GAP, L + 1 (HEAD) or L + 2) cycles. hwgen/passes/cycles.py (ilv_transfer_times,
// ilv_period) models this exactly.
module hwgen_lstm_ilv_ctrl #(
    parameter int I       = 1,
    parameter int X_W     = 8,
    parameter int H       = 1,
    parameter int H_W     = 8,
    parameter int C_W     = 8,
    parameter int O_W     = 8,
    parameter bit HEAD    = 1'b0,
    parameter int OUT_N   = 1,
    parameter int OUT_W   = 8,
    parameter int CLASS_W = 1,
    parameter int N       = 2,  // interleaved sequences
    parameter int GAP     = 1   // cycles between two issues, at least
) (
    input  logic                   clk,
    input  logic                   rst,
    input  logic [I*X_W-1:0]       s_tdata,
    input  logic                   s_tvalid,
    input  logic                   s_tlast,
    output logic                   s_tready,
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
    input  logic [H*O_W-1:0]       acts_o,      // the output gate's activations
    output logic [H*O_W-1:0]       o_act,       // ... of the hidden stage's slot
    input  logic [H*C_W-1:0]       c_new,
    output logic [H*C_W-1:0]       c_state,     // the cell stage's slot's c
    output logic                   cell_start,
    input  logic                   cell_done,
    output logic                   tanh_start,
    input  logic                   tanh_done,
    output logic                   hidden_start,
    input  logic                   hidden_done,
    input  logic [H*H_W-1:0]       h_new,
    // head (HEAD designs)
    output logic [H*H_W-1:0]       head_h,
    output logic                   head_in_valid,
    /* verilator lint_off UNUSEDSIGNAL */  // only HEAD designs read the head's ports
    input  logic                   head_in_ready,
    input  logic [OUT_N*OUT_W-1:0] head_scores,
    input  logic [CLASS_W-1:0]     head_class,
    input  logic                   head_out_valid,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic                   head_out_ready
);
    localparam int SW = $clog2(N) > 0 ? $clog2(N) : 1;  // slot number width
    localparam int GW = $clog2(GAP + 1);                // issue-gap counter width
    localparam int HB = H * H_W;
    localparam int CB = H * C_W;
    localparam int OB = H * O_W;
    localparam logic [SW-1:0] LAST_SLOT = SW'(N - 1);

    initial begin
        if (N < 2 || GAP < 1)
            $fatal(1, "hwgen_lstm_ilv_ctrl: N=%0d must be >= 2 and GAP=%0d >= 1", N, GAP);
        if (!HEAD && (OUT_N != H || OUT_W != H_W))
            $fatal(1, "hwgen_lstm_ilv_ctrl: a design without head emits h (OUT_N=%0d OUT_W=%0d)",
                   OUT_N, OUT_W);
    end

    logic [N*HB-1:0] h_bank;
    logic [N*CB-1:0] c_bank;
    logic [N*OB-1:0] o_bank;
    logic [N-1:0]    busy;   // the slot's step is in flight
    logic [N-1:0]    fresh;  // the slot's h waits to leave (HEAD: to go to the head)
    logic [N-1:0]    last;   // the slot's step in flight or waiting is its sequence's last
    // slot counters, one per strobe (strobes come in slot order): issue, gate_done, cell_done,
    // tanh_done (hidden_start), hidden_done, output; *_cur: the slot its stage last started
    logic [SW-1:0]   is_p, gd_p, cd_p, hs_p, hd_p, em_p, cell_cur, hid_cur;
    logic [SW-1:0]   cell_slot, hid_slot;
    logic [GW-1:0]   gap_q;
    logic            x_got, h_got, x_there, h_there, issue, take;

    assign s_tready    = !busy[is_p] && !fresh[is_p] && gap_q == '0;
    assign issue       = s_tvalid && s_tready;
    assign mv_in_valid = issue;
    assign mx_in       = s_tdata;
    assign mh_in       = h_bank[is_p*HB +: HB];
`ifndef SYNTHESIS
    always_ff @(posedge clk) begin
        if (!rst && issue && !(mx_in_ready && mh_in_ready))
            $fatal(1, "hwgen_lstm_ilv_ctrl: a matrix-vector unit is busy at an issue");
    end
`endif
    // results are taken as they come (as hwgen_lstm_ctrl); GAP keeps the faster unit's next
    // result from coming before the slower unit's current one
    assign x_there      = x_got || mx_out_valid;
    assign h_there      = h_got || mh_out_valid;
    assign mv_out_ready = 1'b1;
    assign gate_start   = x_there && h_there;
    assign cell_start   = gate_done;
    assign tanh_start   = cell_done;
    assign hidden_start = tanh_done;
    // a stage reads its inputs from its start for up to H/LANES cycles: its slot is the counter
    // in the start cycle, then the one it started with
    assign cell_slot    = gate_done ? gd_p : cell_cur;
    assign hid_slot     = tanh_done ? hs_p : hid_cur;
    assign c_state      = c_bank[cell_slot*CB +: CB];
    assign o_act        = o_bank[hid_slot*OB +: OB];
    assign head_h       = h_bank[em_p*HB +: HB];

    generate
        if (HEAD) begin : g_head_out
            assign head_in_valid  = fresh[em_p];
            assign take           = head_in_valid && head_in_ready;
            assign m_tdata        = head_scores;
            assign m_tclass       = head_class;
            assign m_tvalid       = head_out_valid;
            assign m_tlast        = 1'b1;
            assign head_out_ready = m_tready;
        end else begin : g_h_out
            assign head_in_valid  = 1'b0;
            assign take           = m_tvalid && m_tready;
            assign m_tdata        = h_bank[em_p*HB +: HB];
            assign m_tclass       = '0;
            assign m_tvalid       = fresh[em_p];
            assign m_tlast        = last[em_p];
            assign head_out_ready = 1'b0;
        end
    endgenerate

    function automatic logic [SW-1:0] next_slot(input logic [SW-1:0] p);
        next_slot = p == LAST_SLOT ? '0 : p + SW'(1);
    endfunction

    always_ff @(posedge clk) begin
        if (rst) begin
            {is_p, gd_p, cd_p, hs_p, hd_p, em_p, cell_cur, hid_cur} <= '0;
            gap_q <= '0;
            x_got <= 1'b0;
            h_got <= 1'b0;
        end else begin
            gap_q <= issue ? GW'(GAP - 1) : gap_q - (gap_q != '0 ? GW'(1) : '0);
            x_got <= gate_start ? 1'b0 : x_there;
            h_got <= gate_start ? 1'b0 : h_there;
            if (issue) is_p <= next_slot(is_p);
            if (gate_done) begin
                cell_cur <= gd_p;
                gd_p     <= next_slot(gd_p);
            end
            if (cell_done) cd_p <= next_slot(cd_p);
            if (tanh_done) begin
                hid_cur <= hs_p;
                hs_p    <= next_slot(hs_p);
            end
            if (hidden_done) hd_p <= next_slot(hd_p);
            if (take) em_p <= next_slot(em_p);
        end
    end

    // The slot banks: each write names a different slot (a fresh slot is neither busy nor in a
    // stage, a busy one is not fresh), so the order of the ifs does not matter.
    always_ff @(posedge clk) begin
        for (int k = 0; k < N; k++) begin
            if (rst) begin
                h_bank[k*HB +: HB] <= '0;
                c_bank[k*CB +: CB] <= '0;
                o_bank[k*OB +: OB] <= '0;
                busy[k]  <= 1'b0;
                fresh[k] <= 1'b0;
                last[k]  <= 1'b0;
            end else begin
                if (issue && is_p == SW'(k)) begin
                    busy[k] <= 1'b1;
                    last[k] <= s_tlast;
                end
                if (gate_done && gd_p == SW'(k)) o_bank[k*OB +: OB] <= acts_o;
                if (cell_done && cd_p == SW'(k)) c_bank[k*CB +: CB] <= c_new;
                if (hidden_done && hd_p == SW'(k)) begin
                    h_bank[k*HB +: HB] <= h_new;
                    busy[k]  <= 1'b0;
                    fresh[k] <= HEAD ? last[k] : 1'b1;
                end
                if (take && em_p == SW'(k)) begin
                    fresh[k] <= 1'b0;
                    if (last[k]) begin
                        h_bank[k*HB +: HB] <= '0;
                        c_bank[k*CB +: CB] <= '0;
                    end
                end
            end
        end
    end
endmodule
