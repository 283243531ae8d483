// hwgen_tb: self-checking testbench of a generated hwgen_top, read from test-vector files. It
// drives the top's ports (bound to them by the generated hwgen_tb_top: clk, rst, s_*, m_* and,
// with S_W > 0, s_state_*) and reads its outputs.
//
// Promises: every line of INPUTS ({s_tlast, s_tdata}, one input transfer each) is offered in
// order on s_*, with idle cycles at random (IDLE_PCT percent of the cycles in which an input
// could start); m_tready is low at random (STALL_PCT percent of the cycles). Every output
// transfer is compared with ==, in order, with the next line of EXPECTED ({m_tlast, m_tclass,
// m_tdata}): nothing lost, duplicated or reordered. A design with a state stream (S_W > 0) also
// gets one line of STATES per sequence on s_state_*, with idle cycles at random too. While a
// stall holds an output, m_tvalid, m_tdata, m_tclass and m_tlast must not change.
//
// The run ends with one line, "hwgen_tb: PASS ..." (then $finish, exit status 0) or
// "hwgen_tb: FAIL ..." (then $fatal, a nonzero exit status): at the first wrong or extra output
// transfer (named by its index and sequence), after QUIET cycles without any transfer (a hung
// design), or at a broken stall. After the last expected output it waits DRAIN cycles for a
// stray extra one. The cycles it reports run from the first cycle after reset to the last output
// transfer.
//
// The clock period is 10 time units (10 ns with run.sh's --timescale 1ns/1ps); rst (synchronous,
// active high) is high for the first RESET_CYCLES rising edges.
//
// Plusargs: +seed=N (default 1: the random idle and stall pattern, xorshift32), +idle=PCT,
// +stall=PCT (defaults IDLE_PCT, STALL_PCT), +inputs=FILE, +expected=FILE, +states=FILE (default
// the parameters). With the define HWGEN_TB_TRACE the run dumps every signal to +trace=FILE
// (default hwgen_tb.vcd; VCD or FST as the simulator was built: run.sh --trace or --trace-fst).
module hwgen_tb #(
    parameter int    X_W       = 8,     // s_tdata bits
    parameter int    Y_W       = 8,     // m_tdata bits
    parameter int    C_W       = 1,     // m_tclass bits
    parameter int    S_W       = 0,     // s_state_tdata bits; 0: the top has no state stream
    parameter int    SEQS      = 1,     // sequences (lines of STATES)
    parameter int    IN_N      = 1,     // input transfers (lines of INPUTS)
    parameter int    OUT_N     = 1,     // output transfers (lines of EXPECTED)
    parameter int    QUIET     = 1000,  // cycles without any transfer that mean a hung design
    parameter int    DRAIN     = 100,   // cycles to wait for a stray output after the last one
    parameter int    IDLE_PCT  = 25,
    parameter int    STALL_PCT = 25,
    parameter string INPUTS    = "inputs.hex",
    parameter string EXPECTED  = "expected.hex",
    parameter string STATES    = "states.hex",
    localparam int   SW        = S_W > 0 ? S_W : 1
) (
    output logic           clk,
    output logic           rst,
    output logic [X_W-1:0] s_tdata,
    output logic           s_tvalid,
    output logic           s_tlast,
    input  logic           s_tready,
    output logic [SW-1:0]  s_state_tdata,   // a design without a state stream leaves it open
    output logic           s_state_tvalid,
    input  logic           s_state_tready,  // and ties this to 0
    input  logic [Y_W-1:0] m_tdata,
    input  logic [C_W-1:0] m_tclass,
    input  logic           m_tvalid,
    input  logic           m_tlast,
    output logic           m_tready
);
    localparam int RESET_CYCLES = 4;
    localparam int OUT_BITS = Y_W + C_W + 1;  // an expected line: {m_tlast, m_tclass, m_tdata}

    initial begin
        if (X_W < 1 || Y_W < 1 || C_W < 1 || S_W < 0)
            $fatal(1, "hwgen_tb: X_W=%0d, Y_W=%0d, C_W=%0d must be >= 1, S_W=%0d >= 0",
                   X_W, Y_W, C_W, S_W);
        if (SEQS < 1 || IN_N < SEQS || OUT_N < 1 || QUIET < 1 || DRAIN < 0)
            $fatal(1, "hwgen_tb: SEQS=%0d, IN_N=%0d, OUT_N=%0d, QUIET=%0d, DRAIN=%0d out of range",
                   SEQS, IN_N, OUT_N, QUIET, DRAIN);
    end

    initial begin
        clk = 1'b0;
        forever #5 clk = ~clk;
    end

    int unsigned resetting;  // rst is high for the first RESET_CYCLES edges
    initial resetting = RESET_CYCLES;
    assign rst = resetting != 0;
    always @(posedge clk)
        if (resetting != 0) resetting <= resetting - 1;

    logic [X_W:0]      in_mem  [IN_N];
    logic [OUT_BITS-1:0] out_mem [OUT_N];
    logic [SW-1:0]     st_mem  [SEQS];
    int unsigned seed, idle, stall;
    logic [31:0] rng;
    string inputs, expected, states;
`ifdef HWGEN_TB_TRACE
    string trace;
`endif

    initial begin
        inputs = INPUTS;
        expected = EXPECTED;
        states = STATES;
        if (!$value$plusargs("seed=%d", seed)) seed = 1;
        if (!$value$plusargs("idle=%d", idle)) idle = IDLE_PCT;
        if (!$value$plusargs("stall=%d", stall)) stall = STALL_PCT;
        void'($value$plusargs("inputs=%s", inputs));
        void'($value$plusargs("expected=%s", expected));
        void'($value$plusargs("states=%s", states));
        rng = seed == 0 ? 32'h9e3779b9 : seed;  // xorshift32 never leaves 0
        $readmemh(inputs, in_mem);
        $readmemh(expected, out_mem);
        if (S_W > 0) $readmemh(states, st_mem);
`ifdef HWGEN_TB_TRACE
        trace = "hwgen_tb.vcd";
        void'($value$plusargs("trace=%s", trace));
        $dumpfile(trace);
        $dumpvars(0);
`endif
    end

    // One step of xorshift32.
    function automatic logic [31:0] xorshift(input logic [31:0] r);
        logic [31:0] a, b;
        a = r ^ (r << 13);
        b = a ^ (a >> 17);
        xorshift = b ^ (b << 5);
    endfunction

    // Advance rng (blocking: called only from the one clocked process); 1 with chance pct %.
    function automatic logic chance(input int unsigned pct);
        rng = xorshift(rng);
        chance = rng % 100 < pct;
    endfunction

    int unsigned cycle, quiet, in_k, out_k, st_k, seq_k, drain, last_cycle;
    logic [OUT_BITS-1:0] got, want;
    logic held;  // an output was offered and stalled in the previous cycle
    logic [OUT_BITS-1:0] held_beat;

    assign got = {m_tlast, m_tclass, m_tdata};
    assign want = out_mem[out_k < OUT_N ? out_k : 0];

    task automatic finish_fail(input string why);
        $display("hwgen_tb: FAIL: %s at cycle %0d (%0d of %0d input, %0d of %0d output transfers, seed %0d)",
                 why, cycle, in_k, IN_N, out_k, OUT_N, seed);
        $fatal(1, "hwgen_tb: FAIL");
    endtask

    task automatic check_output;
        if (out_k >= OUT_N)
            finish_fail($sformatf("output transfer %0d is beyond the %0d expected", out_k, OUT_N));
        else if (got !== want) begin
            $display("hwgen_tb: output transfer %0d (sequence %0d): got  tlast %0d class %0d tdata %h",
                     out_k, seq_k, got[OUT_BITS-1], got[Y_W +: C_W], got[Y_W-1:0]);
            $display("hwgen_tb: output transfer %0d (sequence %0d): want tlast %0d class %0d tdata %h",
                     out_k, seq_k, want[OUT_BITS-1], want[Y_W +: C_W], want[Y_W-1:0]);
            finish_fail($sformatf("output transfer %0d (sequence %0d) differs", out_k, seq_k));
        end
    endtask

    task automatic check_stall;
        if (held && (!m_tvalid || got !== held_beat))
            finish_fail($sformatf("output transfer %0d changed while stalled", out_k));
    endtask

    task automatic drive_input(input logic taken);
        int unsigned next;
        next = in_k + (taken ? 1 : 0);
        in_k <= next;
        if (!s_tvalid || s_tready) begin
            if (next < IN_N && !chance(idle)) begin
                {s_tlast, s_tdata} <= in_mem[next];
                s_tvalid <= 1'b1;
            end else
                s_tvalid <= 1'b0;
        end
    endtask

    task automatic drive_state(input logic taken);
        int unsigned next;
        next = st_k + (taken ? 1 : 0);
        st_k <= next;
        if (!s_state_tvalid || s_state_tready) begin
            if (S_W > 0 && next < SEQS && !chance(idle)) begin
                s_state_tdata <= st_mem[next];
                s_state_tvalid <= 1'b1;
            end else
                s_state_tvalid <= 1'b0;
        end
    endtask

    task automatic report_pass;
        $display("hwgen_tb: PASS: %0d sequences, %0d input transfers, %0d output transfers equal to the expected ones, %0d cycles (seed %0d, idle %0d %%, stall %0d %%)",
                 SEQS, IN_N, OUT_N, last_cycle, seed, idle, stall);
        $finish;
    endtask

    always @(posedge clk) begin
        if (rst) begin
            {cycle, quiet, in_k, out_k, st_k, seq_k, drain, last_cycle} <= '0;
            {s_tvalid, s_tlast, s_state_tvalid, m_tready, held} <= '0;
            s_tdata <= '0;
            s_state_tdata <= '0;
        end else begin
            cycle <= cycle + 1;
            check_stall();
            if (m_tvalid && m_tready) begin
                check_output();
                out_k <= out_k + 1;
                last_cycle <= cycle + 1;
                seq_k <= seq_k + (got[OUT_BITS-1] ? 1 : 0);
            end
            held <= m_tvalid && !m_tready;
            held_beat <= got;
            if ((s_tvalid && s_tready) || (m_tvalid && m_tready) ||
                (s_state_tvalid && s_state_tready))
                quiet <= 0;
            else if (quiet + 1 >= QUIET)
                finish_fail($sformatf("timeout: no transfer for %0d cycles (hung design?)", QUIET));
            else
                quiet <= quiet + 1;
            drive_input(s_tvalid && s_tready);
            drive_state(s_state_tvalid && s_state_tready);
            m_tready <= !chance(stall);
            if (out_k + (m_tvalid && m_tready ? 1 : 0) >= OUT_N) begin
                if (drain >= DRAIN) report_pass();
                drain <= drain + 1;
            end
        end
    end
endmodule
