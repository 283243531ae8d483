// hwgen_lut: a lookup table on a valid/ready stream, bit-exact with
//   hwgen.reference.kernels.lut(table, index_type, x)
// Entry k of TABLE (bits [k*OUT_W +: OUT_W]) is the output for input code IN_MIN + k. With
// TABLE_FILE the entries come from that data file instead (line k: entry k, hwgen_const_vec), so
// a design's tables can be rewritten without touching its sources; TABLE is then not read.
// The output is registered: one cycle of latency, one code per cycle, full backpressure
// (in_ready = !out_valid || out_ready, the usual single pipeline stage).
// A code outside [IN_MIN, IN_MIN + DEPTH - 1] is a caller error (the reference raises); the
// table then returns entry 0 rather than an unknown value.
module hwgen_lut #(
    parameter int IN_W      = 8,
    parameter bit IN_SIGNED = 1'b1,
    parameter int IN_MIN    = -128,
    parameter int DEPTH     = 256,
    parameter int OUT_W     = 8,
    parameter logic [DEPTH*OUT_W-1:0] TABLE = '0,
    parameter       TABLE_FILE = ""  // "": the entries are TABLE
) (
    input  logic             clk,
    input  logic             rst,
    input  logic [IN_W-1:0]  in_data,
    input  logic             in_valid,
    output logic             in_ready,
    output logic [OUT_W-1:0] out_data,
    output logic             out_valid,
    input  logic             out_ready
);
    localparam int IW = IN_W + 2;                          // x - IN_MIN never overflows IW bits
    localparam int AW = DEPTH > 1 ? $clog2(DEPTH) : 1;     // table address width
    localparam logic signed [63:0] CODE_MIN = IN_SIGNED ? -(64'sd1 <<< (IN_W - 1)) : 64'sd0;
    localparam logic signed [63:0] CODE_MAX = IN_SIGNED ? (64'sd1 <<< (IN_W - 1)) - 1 : (64'sd1 <<< IN_W) - 1;

    initial begin
        if (IN_W < 1 || IN_W > 24 || (IN_SIGNED && IN_W < 2))
            $fatal(1, "hwgen_lut: IN_W=%0d outside 1..24 (2..24 when signed)", IN_W);
        if (OUT_W < 1)
            $fatal(1, "hwgen_lut: OUT_W=%0d must be positive", OUT_W);
        if (DEPTH < 1 || 64'(IN_MIN) < CODE_MIN
                || 64'(IN_MIN) + 64'(DEPTH) - 1 > CODE_MAX)
            $fatal(1, "hwgen_lut: codes [%0d, %0d] (IN_MIN, DEPTH=%0d) not all %0d-bit %s codes",
                   IN_MIN, IN_MIN + DEPTH - 1, DEPTH, IN_W, IN_SIGNED ? "signed" : "unsigned");
    end

    logic signed [IW-1:0] index;     // x - IN_MIN
    logic                 in_range;  // 0 <= index < DEPTH
    logic        [AW-1:0] addr;
    assign index    = (IN_SIGNED ? IW'($signed(in_data)) : IW'($unsigned(in_data))) - IW'(IN_MIN);
    assign in_range = !index[IW-1] && index < IW'(DEPTH);
    assign addr     = in_range ? AW'(index) : '0;

    logic [DEPTH*OUT_W-1:0] entries;  // TABLE or TABLE_FILE's: constants either way
    if (TABLE_FILE == "") begin : g_param
        assign entries = TABLE;
    end else begin : g_file
        hwgen_const_vec #(.N(DEPTH), .W(OUT_W), .FILE(TABLE_FILE)) u_table (.data(entries));
    end

    assign in_ready = !out_valid || out_ready;

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) out_data <= entries[32'(addr) * OUT_W +: OUT_W];
        if (rst)                  out_valid <= 1'b0;
        else if (in_ready)        out_valid <= in_valid;
    end
endmodule
