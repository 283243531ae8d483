// hwgen_embed: the embedding lookup of a token-input model. Each input element is one token id;
// the output element is that token's row of the table: D codes of E_W bits, already
// re-quantized to the first layer's input type (element k at [k*E_W +: E_W]). s_tlast is carried
// to m_tlast with its element.
//
// Handshake: one output register. A token is taken when the register is empty
// (s_tready = !m_tvalid, a register); the ROM is read in that cycle into m_tdata (a registered
// read, block-RAM style), which holds until m_tready.
//
// Timing: LATENCY = 1 (input transfer -> m_tvalid); the next token is taken the cycle after the
// row has left, so with no stalls one element every 2 cycles (PERIOD = 2).
// Data: TABLE_FILE ($readmemh text, line t: token t's row), VOCAB lines. A token id >= VOCAB
// reads no defined row (the reference refuses such ids).
// Resources: one VOCAB x D*E_W ROM with a registered read (block RAM where the tool maps it),
// the output register, one flip-flop of state.
module hwgen_embed #(
    parameter int    VOCAB      = 2,
    parameter int    T_W        = 1,   // token id bits: enough for VOCAB - 1
    parameter int    D          = 1,   // codes per row (the first layer's inputs)
    parameter int    E_W        = 8,   // bits per code
    parameter        TABLE_FILE = ""  // the table's data file
) (
    input  logic             clk,
    input  logic             rst,
    input  logic [T_W-1:0]   s_tdata,
    input  logic             s_tvalid,
    input  logic             s_tlast,
    output logic             s_tready,
    output logic [D*E_W-1:0] m_tdata,
    output logic             m_tvalid,
    output logic             m_tlast,
    input  logic             m_tready
);
    /* verilator lint_off UNUSEDPARAM */  // published for testbenches and the cycle model
    localparam int LATENCY = 1;
    localparam int PERIOD  = 2;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (VOCAB < 1) $fatal(1, "hwgen_embed: VOCAB=%0d must be >= 1", VOCAB);
        if (T_W < 1 || (VOCAB > 1 && (VOCAB - 1) >> T_W != 0))
            $fatal(1, "hwgen_embed: T_W=%0d bits do not hold token id %0d", T_W, VOCAB - 1);
        if (D < 1 || E_W < 1) $fatal(1, "hwgen_embed: D=%0d and E_W=%0d must be >= 1", D, E_W);
    end

    logic [D*E_W-1:0] rom [VOCAB];
    if (TABLE_FILE != "") begin : g_file
        initial $readmemh(TABLE_FILE, rom);
    end else begin : g_zero  // "" (the default): an all-zero table, for reading the core alone
        initial for (int k = 0; k < VOCAB; k++) rom[k] = '0;
    end

    logic take;  // a token transfers in this cycle

    assign s_tready = !m_tvalid;
    assign take     = s_tvalid && s_tready;

    always_ff @(posedge clk) begin
        if (take) begin
            m_tdata <= rom[s_tdata];
            m_tlast <= s_tlast;
        end
        if (rst) m_tvalid <= 1'b0;
        else if (take) m_tvalid <= 1'b1;
        else if (m_tready) m_tvalid <= 1'b0;
    end
endmodule
