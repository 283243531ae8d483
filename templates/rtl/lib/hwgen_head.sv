// hwgen_head: the linear classifier head, bit-exact with hwgen.ir.graph.execute_head:
//   score[k] = (sum_j W[k][j] * h[j]) <<< MV_SHIFT + BIAS[k]     (exact, SCORE_W bits)
//   class    = the first k with the largest score (torch.argmax's tie rule)
// C = 1 is a head with one output (a regression model's): its class is always 0.
// One class (row of W) per cycle: H multipliers and an adder tree over H, pipelined.
// With MUL_STYLE = 1 no multipliers: each product is hwgen_mul_pp's K = ceil(min(W_W, XW) / 2)
// partial products in logic (XW: an input element as a signed number), and the tree adds all
// H*K (where a multiplier block cannot hold its own registers, this is the faster choice).
//
// Pipeline, one register stage per item; row k enters it k cycles after row 0:
//   1. the input vector x (on its transfer) and the row's weights (a registered ROM read indexed
//      by the row counter; row 0 is read during the transfer cycle);
//   2. the multipliers' operands, registered again; 3. the H products (DSP-friendly: registered
//      operands, registered product);
//   4. the adder tree over N = H (H*K with MUL_STYLE = 1) inputs: S = ceil(clog2(N) / TREE_LEVELS)
//      registers, one after every
//      TREE_LEVELS adder levels and after the last (the row's bias is read from a ROM beside
//      the last);
//   5. the score, (sum <<< MV_SHIFT) + bias;
//   6. the running best score and its class (a strictly larger score replaces it), and the
//      scores, shifted in one per row.
// Timing, with no stalls (hwgen/cores.py head_latency models it):
//   latency, in transfer -> out_valid = C + S + 4   (LATENCY)
//   cycles per vector                 = C + S + 5   (the next vector is taken the cycle after
//                                                    the result has left)
// in_ready = the head holds no vector (a register); scores and class_idx hold until out_ready.
// Data: WEIGHTS and BIAS, or the data files WEIGHTS_FILE (line k: row k's H weights, weight j at
// [j*W_W +: W_W]) and BIAS_FILE (line k: class k's bias), $readmemh text loaded into the ROMs.
module hwgen_head #(
    parameter int C           = 2,
    parameter int H           = 1,
    parameter int IN_W        = 8,
    parameter bit IN_SIGNED   = 1'b1,
    parameter int W_W         = 8,
    // the generated top always binds WEIGHTS; the default only serves lint runs, where a wide
    // head's zero default is over Verilator's replication limit
    /* verilator lint_off WIDTHCONCAT */
    parameter logic [C*H*W_W-1:0] WEIGHTS = '0,
    /* verilator lint_on WIDTHCONCAT */
    parameter int ACC_W       = 16,
    parameter int MV_SHIFT    = 0,
    parameter int SCORE_W     = 24,
    parameter logic [C*SCORE_W-1:0] BIAS = '0,
    parameter int CLASS_W     = 1,
    parameter int TREE_LEVELS = 2,  // adder levels between two pipeline registers
    parameter int MUL_STYLE   = 0,  // 0: the inferred `*`; 1: products in logic (see above)
    parameter     WEIGHTS_FILE = "",  // "": the weights are WEIGHTS
    parameter     BIAS_FILE    = ""   // "": the biases are BIAS
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic [H*IN_W-1:0]    in_data,
    input  logic                 in_valid,
    output logic                 in_ready,
    output logic [C*SCORE_W-1:0] scores,
    output logic [CLASS_W-1:0]   class_idx,
    output logic                 out_valid,
    input  logic                 out_ready
);
    localparam int XW  = IN_W + (IN_SIGNED ? 0 : 1);            // an input element, signed
    localparam int K   = MUL_STYLE == 1 ? ((W_W < XW ? W_W : XW) + 1) / 2 : 1;  // inputs/element
    localparam int N  = H * K;                                  // tree inputs
    localparam int NL = N > 1 ? $clog2(N) : 0;                  // adder levels
    localparam int S  = (NL + TREE_LEVELS - 1) / TREE_LEVELS;   // adder tree registers
    /* verilator lint_off UNUSEDPARAM */  // published for the cycle model's tests
    localparam int LATENCY = C + S + 4;
    /* verilator lint_on UNUSEDPARAM */
    localparam int RW  = C > 1 ? $clog2(C) : 1;                 // row counter
    localparam int PW  = W_W + XW;                              // one exact product
    localparam int ROW = H * W_W;                               // one row of weights
    localparam int LVL = N * ACC_W;                             // one tree level, N slots
    localparam int TAG = RW + 1;                                // a row's {valid, row}
    localparam int NT  = S + 4;                                 // row tags: weights .. score

    initial begin
        if (C < 1 || CLASS_W < 1 || (1 << CLASS_W) < C)
            $fatal(1, "hwgen_head: CLASS_W=%0d cannot index %0d classes", CLASS_W, C);
        if (H < 1 || W_W < 2 || IN_W < 1 || (IN_SIGNED && IN_W < 2) || ACC_W < 2 || ACC_W > 62)
            $fatal(1, "hwgen_head: unsupported H=%0d W_W=%0d IN_W=%0d ACC_W=%0d", H, W_W, IN_W,
                   ACC_W);
        // Scores are computed modulo 2**SCORE_W: SCORE_W holds the exact score range (derived in
        // Python), so a wider accumulator wrapping on the way cannot change the result.
        if (MV_SHIFT < 0 || SCORE_W < 2)
            $fatal(1, "hwgen_head: MV_SHIFT=%0d must be >= 0 and SCORE_W=%0d >= 2", MV_SHIFT,
                   SCORE_W);
        if (TREE_LEVELS < 1 || MUL_STYLE < 0 || MUL_STYLE > 1)
            $fatal(1, "hwgen_head: TREE_LEVELS=%0d must be >= 1, MUL_STYLE=%0d 0 or 1",
                   TREE_LEVELS, MUL_STYLE);
    end

    // The weights and the biases as ROMs, one row per class, each read through a register (Yosys
    // infers ROMs with a registered read port; it may map small ones to logic).
    logic [ROW-1:0]     w_rom [C];
    logic [SCORE_W-1:0] b_rom [C];
    if (WEIGHTS_FILE == "") begin : g_w_param
        initial for (int k = 0; k < C; k++) w_rom[k] = WEIGHTS[k*ROW +: ROW];
    end else begin : g_w_file
        initial $readmemh(WEIGHTS_FILE, w_rom);
    end
    if (BIAS_FILE == "") begin : g_b_param
        initial for (int k = 0; k < C; k++) b_rom[k] = BIAS[k*SCORE_W +: SCORE_W];
    end else begin : g_b_file
        initial $readmemh(BIAS_FILE, b_rom);
    end

    logic              busy;     // a vector is in the head or its result is waiting
    logic              issuing;  // rows 1.. of the vector are still to be read
    logic              rd;       // read row `row` this cycle
    logic [RW-1:0]     row;      // the next row to read (0 when idle)
    logic [H*IN_W-1:0] x_q;      // the vector
    logic [ROW-1:0]    w_q;      // the weights of row tag[0]
    logic [H*IN_W-1:0] xa_q;     // the multipliers' operands: x_q and w_q registered again,
    logic [ROW-1:0]    wa_q;     // as a multiplier block's input registers take them
    logic [NT*TAG-1:0] tag;      // {valid, row} beside w_q, the operands, the products, the
                                 // tree's registers, the score
    logic [(S+1)*LVL-1:0] tree_q, tree_d;  // level 0: the products; then the tree's registers
    logic [SCORE_W-1:0]   b_q;     // the bias of the row in the tree's last register
    logic signed [SCORE_W-1:0] score_q, best_q;
    logic [RW-1:0]        sc_row, best_row;  // the row of score_q, of best_q
    logic                 sc_valid;

    assign in_ready = !busy;
    assign rd       = (in_valid && in_ready) || issuing;
    assign sc_valid = tag[(NT-1)*TAG + RW];
    assign sc_row   = tag[(NT-1)*TAG +: RW];

    // Products and adder tree. Level l holds ceil(N / 2**l) sums of at most PW + l bits, kept
    // sign-extended in ACC_W-bit slots (all modulo 2**ACC_W, exact for the row sums). A product
    // (or with MUL_STYLE = 1 a partial product) fits PW bits; element j's are tree inputs
    // j*K .. j*K + K-1.
    logic [H*K*PW-1:0] prods;
    for (genvar j = 0; j < H; j++) begin : g_mul
        logic signed [W_W-1:0] w_v;
        logic signed [XW-1:0]  x_v;
        assign w_v = wa_q[j*W_W +: W_W];
        assign x_v = IN_SIGNED ? XW'($signed(xa_q[j*IN_W +: IN_W]))
                               : XW'($unsigned(xa_q[j*IN_W +: IN_W]));
        if (MUL_STYLE == 1) begin : g_lut
            hwgen_mul_pp #(.A_W(W_W), .B_W(XW), .K(K)) u_pp (
                .a(w_v), .b(x_v), .pp(prods[j*K*PW +: K*PW]));
        end else begin : g_dsp
            assign prods[j*PW +: PW] = PW'(w_v) * PW'(x_v);
        end
    end

    logic signed [ACC_W-1:0] a_v, b_v, s_v;
    logic [LVL-1:0]          lvl_v;
    always_comb begin
        // Every bit of tree_d is written below (level 0 by the products, level s by the tree), so
        // it needs no default; lvl_v starts as level 0 (read only when S > 0). No '0 over whole
        // levels: Verilator refuses replications of more than 8192 bits (wide heads).
        {a_v, b_v, s_v} = '0;
        lvl_v = tree_q[0 +: LVL];
        for (int n = 0; n < N; n++)
            tree_d[n*ACC_W +: ACC_W] = ACC_W'($signed(prods[n*PW +: PW]));
        for (int s = 1; s <= S; s++) begin
            lvl_v = tree_q[(s-1)*LVL +: LVL];
            for (int l = 1; l <= NL; l++) begin
                if ((l - 1) / TREE_LEVELS == s - 1) begin
                    for (int i = 0; i < N; i++) begin
                        a_v = lvl_v[(2*i < N ? 2*i : 0)*ACC_W +: ACC_W];
                        b_v = lvl_v[(2*i+1 < N ? 2*i+1 : 0)*ACC_W +: ACC_W];
                        s_v = a_v + b_v;
                        s_v = (s_v <<< (PW + l < ACC_W ? ACC_W - PW - l : 0))
                              >>> (PW + l < ACC_W ? ACC_W - PW - l : 0);
                        if (i < ((N - 1) >> l) + 1)
                            lvl_v[i*ACC_W +: ACC_W] = (2*i+1 < ((N - 1) >> (l - 1)) + 1)
                                                      ? s_v : a_v;
                        else
                            lvl_v[i*ACC_W +: ACC_W] = '0;
                    end
                end
            end
            tree_d[s*LVL +: LVL] = lvl_v;
        end
    end

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) x_q <= in_data;
        w_q     <= w_rom[row];
        wa_q    <= w_q;
        xa_q    <= x_q;
        tree_q  <= tree_d;
        b_q     <= b_rom[tag[(S+1)*TAG +: RW]];
        score_q <= (SCORE_W'($signed(tree_q[S*LVL +: ACC_W])) <<< MV_SHIFT) + $signed(b_q);
        tag     <= {tag[(NT-1)*TAG-1:0], rd, row};
        if (sc_valid) begin
            // shifted down one row, score_q on top: row C-1 ends at the top (any C >= 1)
            for (int k = 0; k < C - 1; k++)
                scores[k*SCORE_W +: SCORE_W] <= scores[(k+1)*SCORE_W +: SCORE_W];
            scores[(C-1)*SCORE_W +: SCORE_W] <= score_q;
            if (sc_row == '0 || score_q > best_q) begin
                best_q   <= score_q;
                best_row <= sc_row;
            end
        end
        if (rst) begin
            busy      <= 1'b0;
            issuing   <= 1'b0;
            row       <= '0;
            tag       <= '0;
            out_valid <= 1'b0;
        end else begin
            if (rd) begin
                row     <= row == RW'(C - 1) ? '0 : row + 1'b1;
                issuing <= row != RW'(C - 1);
            end
            if (in_valid && in_ready) busy <= 1'b1;
            else if (out_valid && out_ready) busy <= 1'b0;
            if (sc_valid && sc_row == RW'(C - 1)) out_valid <= 1'b1;
            else if (out_ready) out_valid <= 1'b0;
        end
    end
    assign class_idx = CLASS_W'(best_row);
endmodule
