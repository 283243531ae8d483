// hwgen_mul_pp: the partial products of one exact signed product a * b built from logic, with no
// multiplier block; the one home of hwgen's LUT products (MUL_STYLE = 1 in hwgen_mvu, hwgen_head
// and hwgen_mul).
// The narrower operand (a when A_W <= B_W, else b) is cut into K = ceil(min(A_W, B_W) / 2) slices
// of two bits, the top slice holding its sign bit; slice c times the other operand is a select
// and at most one adder (0, y, 2y or 3y, negated where the sign bit counts -2**(width-1)), shifted
// left by 2c. The K partial products, each sign-extended to P_W = A_W + B_W bits, sum to a * b
// exactly: the caller adds them (in its own adder tree). Combinational: no latency.
module hwgen_mul_pp #(
    parameter int A_W = 4,
    parameter int B_W = 8,
    parameter int K   = 2,  // must equal ceil(min(A_W, B_W) / 2); the caller sizes pp with it
    localparam int P_W = A_W + B_W
) (
    input  logic signed [A_W-1:0] a,
    input  logic signed [B_W-1:0] b,
    output logic [K*P_W-1:0]      pp  // partial product c at [c*P_W +: P_W], two's complement
);
    localparam int NW = A_W <= B_W ? A_W : B_W;  // the sliced (narrower) operand's width
    localparam int MW = A_W <= B_W ? B_W : A_W;  // the other one's

    initial begin
        if (A_W < 1 || B_W < 1 || K != (NW + 1) / 2)
            $fatal(1, "hwgen_mul_pp: K=%0d is not ceil(min(%0d, %0d) / 2)", K, A_W, B_W);
    end

    logic signed [NW-1:0] n;  // sliced
    logic signed [MW-1:0] m;  // multiplied by each slice
    assign n = A_W <= B_W ? NW'(a) : NW'(b);
    assign m = A_W <= B_W ? MW'(b) : MW'(a);

    for (genvar c = 0; c < K; c++) begin : g_slice
        localparam bit TWO = 2*c + 1 < NW;         // the slice has a high bit
        localparam bit TOP = c == K - 1;           // its top bit is n's sign bit
        logic signed [P_W-1:0] lo, hi, s;
        assign lo = n[2*c] ? P_W'(m) : '0;
        assign hi = TWO && n[TWO ? 2*c + 1 : 2*c] ? P_W'(m) <<< 1 : '0;
        always_comb begin
            if (TOP && TWO)  s = lo - hi;          // hi is the sign bit
            else if (TOP)    s = -lo;              // lo is the sign bit
            else             s = lo + hi;
        end
        assign pp[c*P_W +: P_W] = s <<< (2*c);
    end
endmodule
