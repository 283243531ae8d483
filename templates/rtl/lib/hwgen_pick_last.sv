// hwgen_pick_last: passes on only the elements with s_tlast set (each leaves with m_tlast = 1)
// and consumes and drops the others. It turns a layer's h_t stream into its final h_T, e.g. for
// a head after a stacked layer.
//
// Handshake: one output register. An element without s_tlast is taken in any cycle
// (s_tready = 1); one with s_tlast when the register is free or being emptied
// (s_tready = !m_tvalid || m_tready). m_tdata holds until m_tready; m_tvalid depends on
// registers only.
//
// Timing: LATENCY = 1 (the s_tlast element's input transfer -> its output transfer, with no
// stalls); one element per cycle in, so an L-element sequence takes L cycles.
module hwgen_pick_last #(
    parameter int W = 8
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
    localparam int LATENCY = 1;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (W < 1) $fatal(1, "hwgen_pick_last: W=%0d must be >= 1", W);
    end

    logic free;  // the output register can take an element in this cycle

    assign free     = !m_tvalid || m_tready;
    assign s_tready = free || !s_tlast;
    assign m_tlast  = 1'b1;

    always_ff @(posedge clk) begin
        if (s_tvalid && s_tlast && free) m_tdata <= s_tdata;
        if (rst) m_tvalid <= 1'b0;
        else if (free) m_tvalid <= s_tvalid && s_tlast;
    end
endmodule
