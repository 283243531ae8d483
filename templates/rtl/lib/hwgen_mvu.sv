// hwgen_mvu: folded matrix-vector unit on valid/ready streams, bit-exact with
//   hwgen.reference.kernels.matvec(W, x)
// W is ROWS x COLS signed W_W-bit weights, row-major in WEIGHTS: W[r][c] at bits
// [(r*COLS + c)*W_W +: W_W]. One transfer on `in` is a whole vector x (x[c] at
// [c*IN_W +: IN_W], signed when IN_SIGNED); one transfer on `out` is the whole result
// (row r at [r*ACC_W +: ACC_W], two's complement).
//
// Folding: each cycle PE rows x SIMD columns of W are multiplied and accumulated, so a vector
// takes NF*SF fold cycles, NF = ROWS/PE, SF = COLS/SIMD. Timing, with no stalls:
//   cycles per vector (initiation interval) = NF*SF + 0   (CYCLES_PER_VECTOR)
//   latency, input transfer -> out_valid   = NF*SF + 1   (LATENCY)
// The next vector is accepted in the cycle the current one finishes, so in_ready depends
// combinationally on out_ready in that cycle (as in any single-stage valid/ready pipeline).
// hwgen/cores.py (mvu_cycles, mvu_latency) models exactly these numbers; the cocotb test
// checks simulation against it.
//
// Sums wrap modulo 2**ACC_W, so every output equal to a value that fits ACC_W signed bits is
// exact whatever the order of accumulation. The Python side derives ACC_W from the actual weights
// and the input range (hwgen.passes.lower_lstm.matvec_range), so every row sum fits.
module hwgen_mvu #(
    parameter int ROWS      = 4,
    parameter int COLS      = 4,
    parameter int PE        = 1,
    parameter int SIMD      = 1,
    parameter int W_W       = 4,
    parameter int IN_W      = 4,
    parameter bit IN_SIGNED = 1'b1,
    parameter int ACC_W     = 16,
    parameter logic [ROWS*COLS*W_W-1:0] WEIGHTS = '0
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic [COLS*IN_W-1:0]  in_data,
    input  logic                  in_valid,
    output logic                  in_ready,
    output logic [ROWS*ACC_W-1:0] out_data,
    output logic                  out_valid,
    input  logic                  out_ready
);
    localparam int NF = ROWS / PE;                    // row folds
    localparam int SF = COLS / SIMD;                  // column folds
    // Timing, published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int CYCLES_PER_VECTOR = NF * SF;
    localparam int LATENCY = NF * SF + 1;
    /* verilator lint_on UNUSEDPARAM */
    localparam int NF_W = NF > 1 ? $clog2(NF) : 1;
    localparam int SF_W = SF > 1 ? $clog2(SF) : 1;
    localparam int XW = IN_W + (IN_SIGNED ? 0 : 1);   // an input element as a signed number
    localparam int PW = W_W + XW;                     // one exact product
    localparam int BLK = PE * ACC_W;                  // the sums of one row fold

    initial begin
        if (ROWS < 1 || COLS < 1 || PE < 1 || SIMD < 1 || ROWS % PE != 0 || COLS % SIMD != 0)
            $fatal(1, "hwgen_mvu: folding ROWS=%0d/PE=%0d, COLS=%0d/SIMD=%0d is not exact",
                   ROWS, PE, COLS, SIMD);
        if (W_W < 2 || IN_W < 1 || (IN_SIGNED && IN_W < 2) || W_W + IN_W + $clog2(COLS) > 60)
            $fatal(1, "hwgen_mvu: unsupported widths W_W=%0d IN_W=%0d", W_W, IN_W);
        if (ACC_W < 2 || ACC_W > 62)
            $fatal(1, "hwgen_mvu: ACC_W=%0d outside 2..62", ACC_W);
    end

    logic [COLS*IN_W-1:0]  x_q;     // the vector being multiplied
    logic                  busy;    // x_q holds a vector whose folds are not all done
    logic [NF_W-1:0]       nf;      // current row fold
    logic [SF_W-1:0]       sf;      // current column fold
    logic [BLK-1:0]        acc_q;   // partial sums of row fold nf over column folds < sf
    logic [BLK-1:0]        sums;    // acc_q plus column fold sf
    logic [ROWS*ACC_W-1:0] work_q;  // finished row folds of the current vector
    logic [ROWS*ACC_W-1:0] work_d;  // work_q with row fold nf written in

    // Written for Yosys's Verilog front end too: no functions with return, no int'() casts.
    logic [31:0]             nf_i, sf_i;  // the current folds as integers, for part-selects
    logic signed [ACC_W-1:0] s_v;         // one row's running sum
    logic signed [W_W-1:0]   w_v;         // one weight
    logic signed [XW-1:0]    x_v;         // one input element as a signed number
    // Without folding in a dimension its fold index is the constant 0, not the (always zero)
    // register. The part-selects below repeat that test where they use the index: Yosys's front
    // end folds a select only when its index is constant in the source text; through the wire it
    // builds a shifter over all of WEIGHTS for every product (minutes for a large unit).
    assign nf_i = NF > 1 ? 32'(nf) : 32'd0;
    assign sf_i = SF > 1 ? 32'(sf) : 32'd0;

    always_comb begin
        sums = '0;
        for (int p = 0; p < PE; p++) begin
            s_v = sf_i == 32'd0 ? '0 : acc_q[p*ACC_W +: ACC_W];
            for (int i = 0; i < SIMD; i++) begin
                w_v = WEIGHTS[(((NF > 1 ? nf_i : 32'd0) * PE + p) * COLS
                             + (SF > 1 ? sf_i : 32'd0) * SIMD + i) * W_W +: W_W];
                x_v = IN_SIGNED
                    ? XW'($signed(x_q[((SF > 1 ? sf_i : 32'd0) * SIMD + i) * IN_W +: IN_W]))
                    : XW'($unsigned(x_q[((SF > 1 ? sf_i : 32'd0) * SIMD + i) * IN_W +: IN_W]));
                s_v = s_v + ACC_W'(PW'(w_v) * PW'(x_v));
            end
            sums[p*ACC_W +: ACC_W] = s_v;
        end
        work_d = work_q;
        work_d[(NF > 1 ? nf_i : 32'd0) * BLK +: BLK] = sums;
    end

    logic last_sf, last_nf, done, out_free, advance;
    assign last_sf  = sf_i == 32'(SF - 1);
    assign last_nf  = nf_i == 32'(NF - 1);
    assign done     = busy && last_sf && last_nf;  // this cycle finishes the vector
    assign out_free = !out_valid || out_ready;      // out_data may be written this cycle
    assign advance  = busy && (!done || out_free);
    assign in_ready = !busy || (done && out_free);

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) x_q <= in_data;
        if (advance) begin
            acc_q <= sums;
            if (last_sf) work_q <= work_d;
            if (done) out_data <= work_d;
        end
        if (rst) begin
            busy      <= 1'b0;
            nf        <= '0;
            sf        <= '0;
            out_valid <= 1'b0;
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            if (done && advance) out_valid <= 1'b1;
            if (in_valid && in_ready) busy <= 1'b1;
            else if (done && advance) busy <= 1'b0;
            if (advance) begin
                sf <= last_sf ? '0 : sf + 1'b1;
                if (last_sf) nf <= last_nf ? '0 : nf + 1'b1;
            end
        end
    end
endmodule
