// hwgen_state_bcast: hands one state word (s_*) to N takers, each with its own valid/ready; the
// word's data goes to them directly (it holds while s_tvalid, as on any stream). Taker k sees
// m_tvalid[k] until it has taken the current word; the word transfers (s_tready) in the cycle the
// last taker takes it, so no taker sees the next word before every taker has taken this one.
module hwgen_state_bcast #(
    parameter int N = 1
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         s_tvalid,
    output logic         s_tready,
    output logic [N-1:0] m_tvalid,
    input  logic [N-1:0] m_tready
);
    initial begin
        if (N < 1) $fatal(1, "hwgen_state_bcast: N=%0d, want N >= 1", N);
    end

    logic [N-1:0] taken_q;

    assign m_tvalid = {N{s_tvalid}} & ~taken_q;
    assign s_tready = &(taken_q | m_tready);

    always_ff @(posedge clk) begin
        if (rst) taken_q <= '0;
        else if (s_tvalid && s_tready) taken_q <= '0;
        else taken_q <= taken_q | (m_tvalid & m_tready);
    end
endmodule
