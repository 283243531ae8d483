// hwgen_stream_zip: joins two streams element by element: each output element is
// {b, a} (a in bits [WA-1:0], b in [WA+WB-1:WA]) from one element of each input. A bidirectional
// layer joins its forward and backward outputs of the same time step with one.
//
// The two inputs must carry equally long sequences; m_tlast is sa_tlast, and sb_tlast is not
// looked at (the host sends both directions the same sequence, so they agree).
//
// Handshake: one output register. An element of each input is taken in the same cycle, when both
// are valid and the register is free or being emptied: sa_tready = sb_tvalid && free and
// sb_tready = sa_tvalid && free, free = !m_tvalid || m_tready (ready depends on the other input's
// valid, valid never on ready). m_tdata and m_tlast hold until m_tready.
//
// Timing: LATENCY = 1 (the pair's input transfer -> its output transfer, with no stalls); one
// element per cycle.
module hwgen_stream_zip #(
    parameter int WA = 8,
    parameter int WB = 8
) (
    input  logic            clk,
    input  logic            rst,
    input  logic [WA-1:0]   sa_tdata,
    input  logic            sa_tvalid,
    input  logic            sa_tlast,
    output logic            sa_tready,
    input  logic [WB-1:0]   sb_tdata,
    input  logic            sb_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */  // m_tlast follows a; b carries the same sequence
    input  logic            sb_tlast,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic            sb_tready,
    output logic [WA+WB-1:0] m_tdata,
    output logic            m_tvalid,
    output logic            m_tlast,
    input  logic            m_tready
);
    /* verilator lint_off UNUSEDPARAM */  // published for testbenches and the cycle model
    localparam int LATENCY = 1;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (WA < 1 || WB < 1) $fatal(1, "hwgen_stream_zip: WA=%0d and WB=%0d must be >= 1", WA, WB);
    end

    logic free;  // the output register can take a pair in this cycle
    logic take;  // it does

    assign free      = !m_tvalid || m_tready;
    assign take      = free && sa_tvalid && sb_tvalid;
    assign sa_tready = free && sb_tvalid;
    assign sb_tready = free && sa_tvalid;

    always_ff @(posedge clk) begin
        if (take) begin
            m_tdata <= {sb_tdata, sa_tdata};
            m_tlast <= sa_tlast;
        end
        if (rst) m_tvalid <= 1'b0;
        else if (free) m_tvalid <= sa_tvalid && sb_tvalid;
    end
endmodule
