// hwgen_seq_buf: stores one whole sequence, then replays it, in arrival order (REVERSE = 0) or
// last element first (REVERSE = 1). A bidirectional layer feeds its backward direction through
// one, and puts the backward outputs back into time order through another.
//
// A sequence is the elements up to and including the one with s_tlast. The replay sets m_tlast on
// the last element it sends. Both streams follow AXI-stream rules: a transfer happens on a rising
// edge with valid && ready; m_tvalid, m_tdata and m_tlast hold until m_tready; m_tvalid never
// depends on m_tready. s_tready depends on registers only.
//
// BANKS = 2 (ping-pong, the default): two buffers of DEPTH elements; the next sequence fills one
// while the other replays, so s_tready is low only while both hold a sequence not yet replayed.
// BANKS = 1: one buffer; s_tready is low from a sequence's s_tlast until its last element has
// been read out of the memory (one cycle before that element's m_* transfer).
//
// Timing with no stalls: one element per cycle on each side; the first replayed element's
// transfer comes LATENCY = 2 cycles after the s_tlast transfer. A stream of L-element sequences
// takes L cycles per sequence with BANKS = 2 (input and output never pause) and 2L with BANKS = 1.
//
// A sequence longer than DEPTH does not write out of bounds: every element after the DEPTH-th
// overwrites slot DEPTH-1, so the buffer replays DEPTH elements, the first DEPTH-1 of the sequence
// and its last one (with m_tlast). The host refuses such sequences; this only keeps the core safe.
//
// The memory has one synchronous write port and one synchronous read port with enable, whose
// register is m_tdata itself, so Yosys maps it to block or distributed RAM. Reads and writes
// always go to different banks (BANKS = 2) or different times (BANKS = 1), never the same word.
module hwgen_seq_buf #(
    parameter int W       = 8,
    parameter int DEPTH   = 16,
    parameter bit REVERSE = 1'b0,
    parameter int BANKS   = 2
) (
    input  logic         clk,
    input  logic         rst,
    input  logic [W-1:0] s_tdata,
    input  logic         s_tvalid,
    input  logic         s_tlast,
    output logic         s_tready,
    output logic [W-1:0] m_tdata,
    output logic         m_tvalid,
    output logic         m_tlast,
    input  logic         m_tready
);
    /* verilator lint_off UNUSEDPARAM */  // published for testbenches and the cycle model
    localparam int LATENCY = 2;  // s_tlast transfer -> first replayed element's transfer
    /* verilator lint_on UNUSEDPARAM */
    localparam int IW = DEPTH > 1 ? $clog2(DEPTH) : 1;  // element index within a bank
    localparam int AW = IW + BANKS - 1;                 // memory address: {bank, index}
    localparam logic [IW-1:0] TOP = IW'(DEPTH - 1);     // the last slot of a bank

    initial begin
        if (W < 1 || DEPTH < 1)
            $fatal(1, "hwgen_seq_buf: W=%0d and DEPTH=%0d must be >= 1", W, DEPTH);
        if (BANKS < 1 || BANKS > 2)
            $fatal(1, "hwgen_seq_buf: BANKS=%0d is not 1 or 2", BANKS);
    end

    logic [W-1:0] mem [BANKS << IW];

    logic [1:0]          full;     // full[b]: bank b holds a sequence not yet read out
    logic [1:0][IW-1:0]  last_q;   // last_q[b]: index of bank b's last element
    logic                wr_bank;  // the bank being filled
    logic [IW-1:0]       wr_idx;   // where the next input element goes
    logic                rd_bank;  // the bank being replayed
    logic [IW-1:0]       rd_idx;   // how many of its elements have been read out
    logic [IW-1:0]       rd_last;  // last_q[rd_bank]
    logic [IW-1:0]       rd_elem;  // the element to read next
    logic                rd_end;   // it is the last one to replay
    logic                advance;  // the output register may load
    logic                issue;    // read rd_elem into the output register
    logic [AW-1:0]       waddr, raddr;

    assign s_tready = !full[wr_bank];
    assign rd_last  = last_q[rd_bank];
    assign rd_end   = rd_idx == rd_last;
    assign rd_elem  = REVERSE ? rd_last - rd_idx : rd_idx;
    assign advance  = !m_tvalid || m_tready;
    assign issue    = advance && full[rd_bank];

    generate
        if (BANKS > 1) begin : g_two_banks
            assign waddr = {wr_bank, wr_idx};
            assign raddr = {rd_bank, rd_elem};
        end else begin : g_one_bank
            assign waddr = wr_idx;
            assign raddr = rd_elem;
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (s_tvalid && s_tready) mem[waddr] <= s_tdata;
    end

    always_ff @(posedge clk) begin
        if (issue) m_tdata <= mem[raddr];
    end

    always_ff @(posedge clk) begin
        if (issue) m_tlast <= rd_end;
        if (rst) begin
            full     <= '0;
            last_q   <= '0;
            wr_bank  <= 1'b0;
            wr_idx   <= '0;
            rd_bank  <= 1'b0;
            rd_idx   <= '0;
            m_tvalid <= 1'b0;
        end else begin
            // Fill and replay never touch the same bank's flag in one cycle: filling needs it
            // clear, replaying needs it set.
            if (s_tvalid && s_tready) begin
                if (s_tlast) begin
                    full[wr_bank]   <= 1'b1;
                    last_q[wr_bank] <= wr_idx;
                    wr_bank         <= BANKS > 1 ? !wr_bank : 1'b0;
                    wr_idx          <= '0;
                end else if (wr_idx != TOP) begin
                    wr_idx <= wr_idx + 1'b1;
                end
            end
            if (advance) m_tvalid <= full[rd_bank];
            if (issue) begin
                if (rd_end) begin
                    full[rd_bank] <= 1'b0;
                    rd_bank       <= BANKS > 1 ? !rd_bank : 1'b0;
                    rd_idx        <= '0;
                end else begin
                    rd_idx <= rd_idx + 1'b1;
                end
            end
        end
    end
endmodule
