// hwgen_mvu: pipelined, folded matrix-vector unit on valid/ready streams, bit-exact with
//   hwgen.reference.kernels.matvec(W, x)
// W is ROWS x COLS signed W_W-bit weights. One transfer on `in` is a whole vector x (x[c] at
// [c*IN_W +: IN_W], signed when IN_SIGNED); one transfer on `out` is the whole result (row r at
// [r*ACC_W +: ACC_W], two's complement).
//
// Folding: each cycle one fold, PE rows x SIMD columns of W, is multiplied, so a vector takes
// F = NF*SF folds, NF = ROWS/PE, SF = COLS/SIMD. A fold passes: for F > 1 the ROM's read register
// (with the input slice beside it), then the fold's weight word and input slice registers (a
// block RAM's read is slow: nothing but a register follows it); with F = 1 the input register
// itself is the slice and the weights are constants. Then the product
// registers (PE*SIMD exact products), an adder tree over SIMD with a register after every
// REG_EVERY levels (0: none), then the accumulator over column folds. With REG_EVERY = 1 (the
// default) no stage has more than one adder level (the accumulator's add is a stage of its own).
// MUL_STYLE = 1 builds the products from logic: each is hwgen_mul_pp's K = ceil(min(W_W, XW) / 2)
// partial products (XW: an input element as a signed number), the product registers hold all
// PE*SIMD*K of them and the tree adds SIMD*K per row (K = 1 with MUL_STYLE = 0). Timing, with no
// stalls (LV = clog2(SIMD*K) tree levels, TR = LV / REG_EVERY tree registers):
//   cycles per vector (initiation interval) = F                          (CYCLES_PER_VECTOR)
//   latency, input transfer -> out_valid   = F + 5 + TR (F > 1), 4 + TR (F = 1)   (LATENCY)
// Vectors overlap in the pipeline: the next vector is accepted in the cycle the current one's
// last fold issues. A finished result waits in out_data until out_ready; while the one behind it
// would overwrite it the whole pipeline holds, so in_ready depends combinationally on out_ready.
// out_data keeps a result after its transfer, until the next result's out_valid: a consumer that
// ties out_ready to 1 (hwgen_lstm_ctrl) may read it later, and then nothing in the unit waits on
// the consumer (the pipeline never holds; Yosys removes the enables).
// HOLD = 0 (a folded unit, F > 1) drops the result register: out_data is the register the row
// folds are written into. A result then holds after its transfer only until the next vector's
// first row fold is written (SF folds later), and the pipeline holds already before that write
// while out_valid waits for out_ready. For a consumer that reads each result before it hands
// the unit the next vector (hwgen_lstm_ctrl); it saves ROWS*ACC_W flip-flops and the
// multiplexer in front of them. Cycles without stalls are the same.
// hwgen/cores.py (mvu_cycles, mvu_latency) models exactly these numbers; the cocotb test checks
// simulation against it.
//
// Weights: a fully parallel unit (F = 1) takes them from WEIGHTS, W[r][c] at bits
// [(r*COLS + c)*W_W +: W_W] (WEIGHTS_BITS = ROWS*COLS*W_W), or, given INIT_FILE, from that data
// file as constants, W[r][c] on line r*COLS + c (hwgen_const_vec). A unit that does not read
// WEIGHTS may set WEIGHTS_BITS = 1, so no parameter grows with the number of weights. A folded
// unit (F > 1) reads them from a ROM of F words with a registered read (from 64 words on marked
// rom_style "block": block RAM; a smaller one is left to the tool, which builds it from LUTs),
// loaded by $readmemh from the text file INIT_FILE:
// line k (k = nf*SF + sf, row fold nf, column fold sf) is one hex word holding
// W[nf*PE + p][sf*SIMD + i] at bits [(p*SIMD + i)*W_W +: W_W]. The tools open INIT_FILE
// relative to the folder they run in: hwgen's generated designs name "mem/<file>.hex" and keep
// the files in DIR/rtl/mem/ (listed in DIR/rtl/mem.f), so a tool run in DIR/rtl finds them;
// hwgen's own runners copy them to mem/ in their working folders (see hwgen/codegen/rtl.py).
//
// Sums wrap modulo 2**ACC_W, so every output equal to a value that fits ACC_W signed bits is
// exact whatever the order of accumulation. The Python side derives ACC_W from the actual weights
// and the input range (hwgen.passes.lower_lstm.matvec_range), so every row sum fits.
module hwgen_mvu #(
    parameter int ROWS      = 4,
    parameter int COLS      = 4,
    parameter int PE        = 4,
    parameter int SIMD      = 4,
    parameter int W_W       = 4,
    parameter int IN_W      = 4,
    parameter bit IN_SIGNED = 1'b1,
    parameter int ACC_W     = 16,
    parameter int REG_EVERY = 1,
    parameter int MUL_STYLE = 0,                       // 0: the inferred `*`; 1: in logic
    parameter bit HOLD      = 1'b1,                    // 0: no result register (see above)
    parameter int WEIGHTS_BITS = ROWS*COLS*W_W,
    parameter logic [WEIGHTS_BITS-1:0] WEIGHTS = '0,  // read when NF*SF = 1 and no INIT_FILE
    parameter INIT_FILE     = ""                       // needed when NF*SF > 1
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
    localparam int F  = NF * SF;                      // folds per vector
    localparam int XW = IN_W + (IN_SIGNED ? 0 : 1);   // an input element as a signed number
    localparam int K  = MUL_STYLE == 1 ? ((W_W < XW ? W_W : XW) + 1) / 2 : 1;  // per product
    localparam int NL = SIMD * K;                     // tree inputs per row
    localparam int LV = NL > 1 ? $clog2(NL) : 0;      // adder-tree levels
    localparam int NP = 1 << LV;                      // tree leaves (NL padded with zeros)
    localparam int TR = REG_EVERY > 0 ? LV / REG_EVERY : 0;  // tree pipeline registers
    // Timing, published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int CYCLES_PER_VECTOR = F;
    localparam int LATENCY = F + (F > 1 ? 5 : 3) + TR;
    /* verilator lint_on UNUSEDPARAM */
    localparam int NF_W = NF > 1 ? $clog2(NF) : 1;
    localparam int SF_W = SF > 1 ? $clog2(SF) : 1;
    localparam int K_W  = F > 1 ? $clog2(F) : 1;
    localparam int PW = W_W + XW;                     // one exact product
    localparam int TW = PW + LV < ACC_W ? PW + LV : ACC_W;  // a tree node (wraps like ACC_W)
    localparam int WORD = PE * SIMD * W_W;            // the weights of one fold
    localparam int XS = SIMD * IN_W;                  // the input slice of one fold
    localparam int BLK = PE * ACC_W;                  // the sums of one row fold
    localparam int TG = NF_W + 3;                     // a fold's tag: {nf, done, last, first}
    localparam int OS = F > 1 ? 2 : 1;                // operand stages: ROM read, operands
    localparam int ST = OS + 1 + TR;                  // tagged stages: operands, products, tree
    localparam int BLOCK_MIN = 64;                    // ROM words from which it is block RAM
    localparam bit RES_REG = HOLD || F == 1;          // out_data is a register of its own

    initial begin
        if (ROWS < 1 || COLS < 1 || PE < 1 || SIMD < 1 || ROWS % PE != 0 || COLS % SIMD != 0)
            $fatal(1, "hwgen_mvu: folding ROWS=%0d/PE=%0d, COLS=%0d/SIMD=%0d is not exact",
                   ROWS, PE, COLS, SIMD);
        if (W_W < 2 || IN_W < 1 || (IN_SIGNED && IN_W < 2) || W_W + IN_W + $clog2(COLS) > 60)
            $fatal(1, "hwgen_mvu: unsupported widths W_W=%0d IN_W=%0d", W_W, IN_W);
        if (ACC_W < 2 || ACC_W > 62)
            $fatal(1, "hwgen_mvu: ACC_W=%0d outside 2..62", ACC_W);
        if (REG_EVERY < 0 || MUL_STYLE < 0 || MUL_STYLE > 1)
            $fatal(1, "hwgen_mvu: REG_EVERY=%0d is negative or MUL_STYLE=%0d not 0 or 1",
                   REG_EVERY, MUL_STYLE);
        if (F == 1 && INIT_FILE == "" && WEIGHTS_BITS != ROWS*COLS*W_W)
            $fatal(1, "hwgen_mvu: WEIGHTS_BITS=%0d, a fully parallel unit needs %0d",
                   WEIGHTS_BITS, ROWS*COLS*W_W);
        if (F > 1 && INIT_FILE == "")
            $fatal(1, "hwgen_mvu: a folded unit (%0d folds) needs INIT_FILE", F);
    end

    // ---- pipeline control: every register below moves when en; it holds only while the last
    // stage finishes a vector that out_data has no room for.
    logic          en;
    logic          issue;       // a fold enters the first operand stage at this edge (when en)
    logic [TG-1:0] issue_tag;   // its tag
    logic [ST-1:0] valid_q;     // stage s holds a fold (s < OS: operands)
    logic [ST*TG-1:0] tag_q;    // stage s's tag at [s*TG +: TG]
    logic [TG-1:0] t_tag;       // the tag of the fold in the last tagged stage
    logic          t_valid, t_first, t_last, t_done;
    /* verilator lint_off UNUSEDSIGNAL */  // without row folding there is no row fold to read
    logic [NF_W-1:0] t_nf;
    /* verilator lint_on UNUSEDSIGNAL */
    assign t_tag   = tag_q[(ST-1)*TG +: TG];
    assign t_valid = valid_q[ST-1];
    assign {t_nf, t_done, t_last, t_first} = t_tag;
    // the write stage, one after the accumulator: the fold whose sums acc_q holds
    logic            w_valid, w_last, w_done;
    /* verilator lint_off UNUSEDSIGNAL */  // HOLD = 0 decodes its row fold a stage earlier
    logic [NF_W-1:0] w_nf;
    /* verilator lint_on UNUSEDSIGNAL */
    // HOLD = 0: out_data is the row folds' register, so the next vector's first row fold (a
    // w_last) may not be written while the result waits
    assign en = !(w_valid && (RES_REG ? w_done : w_last) && out_valid && !out_ready);

    always_ff @(posedge clk) begin
        if (en) begin
            valid_q <= {valid_q[ST-2:0], issue};
            tag_q   <= {tag_q[(ST-1)*TG-1:0], issue_tag};
        end
        if (rst) valid_q <= '0;
    end

    // ---- operand stages: the fold's weight word and input slice
    logic [WORD-1:0] w_q;
    logic [XS-1:0]   x_s;
    generate
        if (F > 1) begin : g_folded
            logic [COLS*IN_W-1:0] x_q;   // the vector being folded
            logic                 busy;  // x_q holds a vector whose folds are not all issued
            logic [NF_W-1:0]      nf;    // the next fold's row fold
            logic [SF_W-1:0]      sf;    // ... column fold
            logic [WORD-1:0]      rd_q;  // the ROM's read register: the fold's weight word
            logic [XS-1:0]        x_r;   // the fold's input slice, beside rd_q
            logic [K_W-1:0]       k;     // ... index, nf*SF + sf: its ROM address
            logic                 last_sf, last_nf, done;
            logic [31:0]          sf_i;  // sf as an integer for the part-select (0 when SF = 1)
            // The weight ROM, read one word a cycle into rd_q. Yosys builds a ROM from logic
            // unless told otherwise: from BLOCK_MIN words on it asks for block RAM.
            if (F >= BLOCK_MIN) begin : g_block
                (* rom_style = "block" *) logic [WORD-1:0] rom [0:F-1];
                initial $readmemh(INIT_FILE, rom);
                always_ff @(posedge clk) begin
                    if (en) rd_q <= rom[k];
                end
            end else begin : g_small
                logic [WORD-1:0] rom [0:F-1];
                initial $readmemh(INIT_FILE, rom);
                always_ff @(posedge clk) begin
                    if (en) rd_q <= rom[k];
                end
            end

            assign sf_i     = SF > 1 ? 32'(sf) : 32'd0;
            assign last_sf  = sf_i == 32'(SF - 1);
            assign last_nf  = (NF > 1 ? 32'(nf) : 32'd0) == 32'(NF - 1);
            // done (the fold issuing is the vector's last, k == F - 1) is kept in a register of
            // its own: in_ready, and with it x_q's enable, then starts from flip-flops, not from
            // compares on the fold counters
            logic done_q;
            assign done     = done_q;
            assign issue    = busy;
            assign issue_tag = {NF > 1 ? nf : NF_W'(0), done, last_sf, sf_i == 32'd0};
            assign in_ready = !busy || (done && en);

            always_ff @(posedge clk) begin
                // x_q takes in_data whenever a transfer could happen, so only busy waits on
                // in_valid (an idle unit's x_q is not read; a transfer's is held from then on).
                if (in_ready) x_q <= in_data;
                if (en) begin
                    x_r <= x_q[(SF > 1 ? sf_i : 32'd0) * XS +: XS];
                    w_q <= rd_q;
                    x_s <= x_r;
                end
                if (rst) begin
                    busy <= 1'b0;
                    done_q <= 1'b0;
                    nf   <= '0;
                    sf   <= '0;
                    k    <= '0;
                end else begin
                    if (in_valid && in_ready) busy <= 1'b1;
                    else if (busy && done && en) busy <= 1'b0;
                    if (busy && en) begin
                        done_q <= !done && k == K_W'(F - 2);
                        k  <= done ? '0 : k + 1'b1;
                        sf <= last_sf ? '0 : sf + 1'b1;
                        if (last_sf) nf <= last_nf ? '0 : nf + 1'b1;
                    end
                end
            end
        end else begin : g_parallel
            if (INIT_FILE == "") begin : g_param
                assign w_q = WEIGHTS;
            end else begin : g_file
                hwgen_const_vec #(.N(ROWS*COLS), .W(W_W), .FILE(INIT_FILE)) u_w (.data(w_q));
            end
            assign issue     = in_valid;
            assign issue_tag = {NF_W'(0), 3'b111};
            assign in_ready  = en;
            always_ff @(posedge clk) begin
                if (en) x_s <= in_data;
            end
        end
    endgenerate

    // ---- product stage: PE*SIMD exact products (or K partial products each), tree input n of
    // row p (n = i*K + c: product i, slice c) at [(p*NL + n)*PW +: PW]
    logic [PE*NL*PW-1:0] p_d, p_q;
    for (genvar p = 0; p < PE; p++) begin : g_pe
        for (genvar i = 0; i < SIMD; i++) begin : g_simd
            logic signed [W_W-1:0] w_v;
            logic signed [XW-1:0]  x_v;
            assign w_v = w_q[(p*SIMD + i)*W_W +: W_W];
            assign x_v = IN_SIGNED ? XW'($signed(x_s[i*IN_W +: IN_W]))
                                   : XW'($unsigned(x_s[i*IN_W +: IN_W]));
            if (MUL_STYLE == 1) begin : g_lut
                hwgen_mul_pp #(.A_W(W_W), .B_W(XW), .K(K)) u_pp (
                    .a(w_v), .b(x_v), .pp(p_d[(p*NL + i*K)*PW +: K*PW]));
            end else begin : g_dsp
                assign p_d[(p*NL + i)*PW +: PW] = PW'(w_v) * PW'(x_v);
            end
        end
    end
    always_ff @(posedge clk) begin
        if (en) p_q <= p_d;
    end

    // ---- adder tree over NL inputs: level j holds PE x (NP >> j) sums of TW bits; a level whose
    // index is a multiple of REG_EVERY is registered
    genvar j;
    generate
        for (j = 0; j <= LV; j++) begin : g_lv
            localparam int N = NP >> j;
            logic [PE*N*TW-1:0] sum, out;
            if (j == 0) begin : g_leaves
                always_comb begin
                    for (int p = 0; p < PE; p++) begin
                        for (int i = 0; i < NL; i++)
                            sum[(p*N + i)*TW +: TW] = TW'($signed(p_q[(p*NL + i)*PW +: PW]));
                        for (int i = NL; i < N; i++)
                            sum[(p*N + i)*TW +: TW] = '0;  // padding up to a power of two
                    end
                end
            end else begin : g_adders
                always_comb begin
                    for (int p = 0; p < PE; p++)
                        for (int n = 0; n < N; n++)
                            sum[(p*N + n)*TW +: TW] = g_lv[j-1].out[(p*2*N + 2*n)*TW +: TW]
                                                    + g_lv[j-1].out[(p*2*N + 2*n + 1)*TW +: TW];
                end
            end
            if (j > 0 && REG_EVERY > 0 && j % REG_EVERY == 0) begin : g_reg
                always_ff @(posedge clk) begin
                    if (en) out <= sum;
                end
            end else begin : g_wire
                assign out = sum;
            end
        end
    endgenerate

    // ---- accumulator over column folds, then (a stage later, so that the wide result registers
    // are fed from a register, not from the accumulator's adders) the result register
    logic [BLK-1:0]        acc_q;   // partial sums of row fold t_nf over the earlier column folds
    logic [BLK-1:0]        sums;    // acc_q plus this fold
    logic [ROWS*ACC_W-1:0] work_q;  // finished row folds of the vector being accumulated
    always_comb begin
        for (int p = 0; p < PE; p++)
            sums[p*ACC_W +: ACC_W] = (t_first ? ACC_W'(0) : acc_q[p*ACC_W +: ACC_W])
                                   + ACC_W'($signed(g_lv[LV].out[p*TW +: TW]));
    end

    // Row fold w_nf is written through a decoder of constant selects: a select indexed by
    // w_nf * BLK makes Yosys build the product (an ECP5 multiplier block) and a shifter over the
    // whole vector, the slowest path of a row-folded unit.
    generate
        if (RES_REG) begin : g_hold
            logic [ROWS*ACC_W-1:0] work_d;  // work_q with row fold w_nf (acc_q) written in
            always_comb begin
                work_d = work_q;
                for (int n = 0; n < NF; n++)
                    if (NF == 1 || 32'(w_nf) == 32'(n)) work_d[n*BLK +: BLK] = acc_q;
            end
            always_ff @(posedge clk) begin
                if (en && w_valid) begin
                    if (w_last) work_q <= work_d;
                    if (w_done) out_data <= work_d;
                end
            end
        end else begin : g_no_hold  // out_data is work_q, each row fold written on its own
            // w_sel: one write strobe per row fold, decoded a stage ahead beside w_valid, so no
            // strobe drives more than one row fold's BLK flip-flops
            logic [NF-1:0] w_sel;
            always_ff @(posedge clk) begin
                if (en)
                    for (int n = 0; n < NF; n++)
                        w_sel[n] <= t_valid && t_last && (NF == 1 || 32'(t_nf) == 32'(n));
                if (rst) w_sel <= '0;
                for (int n = 0; n < NF; n++)
                    if (en && w_sel[n]) work_q[n*BLK +: BLK] <= acc_q;
            end
            assign out_data = work_q;
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (en) begin
            if (t_valid) acc_q <= sums;
            w_valid <= t_valid;
            {w_nf, w_done, w_last} <= {t_nf, t_done, t_last};
        end
        if (rst) w_valid <= 1'b0;
        if (rst) out_valid <= 1'b0;
        else if (en && w_valid && w_done) out_valid <= 1'b1;
        else if (out_ready) out_valid <= 1'b0;
    end
endmodule
