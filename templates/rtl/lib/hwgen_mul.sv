// hwgen_mul: one exact, pipelined signed product p = a * b (P_W = A_W + B_W bits), a new pair
// taken in every cycle; p is a * b of the pair taken LATENCY cycles earlier. Never stalls.
//   MUL_STYLE 0: the inferred `*` (a multiplier block where there is one), registered once:
//                MIN_LATENCY = 1.
//   MUL_STYLE 1: no multiplier: hwgen_mul_pp's K = ceil(min(A_W, B_W) / 2) partial products,
//                registered, then an adder tree over them with a register after every two adder
//                levels and after the last: MIN_LATENCY = 1 + ceil(clog2(K) / 2).
// LATENCY (given by the caller, hwgen/cores.py mul_latency models MIN_LATENCY) >= MIN_LATENCY;
// the difference is made up by registers on p, so products of different widths can be aligned.
module hwgen_mul #(
    parameter int A_W       = 8,
    parameter int B_W       = 8,
    parameter int MUL_STYLE = 0,
    parameter int LATENCY   = 1,
    localparam int P_W = A_W + B_W
) (
    input  logic                  clk,
    input  logic signed [A_W-1:0] a,
    input  logic signed [B_W-1:0] b,
    output logic signed [P_W-1:0] p
);
    localparam int K   = MUL_STYLE == 1 ? ((A_W <= B_W ? A_W : B_W) + 1) / 2 : 1;  // tree leaves
    localparam int LV  = K > 1 ? $clog2(K) : 0;      // adder levels
    localparam int NP  = 1 << LV;                    // leaves padded to a power of two
    localparam int TR  = (LV + 1) / 2;               // tree registers
    localparam int MIN_LATENCY = 1 + TR;
    localparam int PAD = LATENCY - MIN_LATENCY;      // extra output registers
    localparam int PADS = PAD > 0 ? PAD : 0;         // (a negative PAD stops in the check below)

    initial begin
        if (A_W < 1 || B_W < 1 || MUL_STYLE < 0 || MUL_STYLE > 1)
            $fatal(1, "hwgen_mul: unsupported A_W=%0d B_W=%0d MUL_STYLE=%0d", A_W, B_W, MUL_STYLE);
        if (PAD < 0)
            $fatal(1, "hwgen_mul: LATENCY=%0d is below MIN_LATENCY=%0d", LATENCY, MIN_LATENCY);
    end

    logic [NP*P_W-1:0] leaves_q;  // the registered product or partial products (zero padded)
    generate
        if (MUL_STYLE == 0) begin : g_dsp
            always_ff @(posedge clk) leaves_q <= P_W'(P_W'(a) * P_W'(b));
        end else begin : g_lut
            logic [K*P_W-1:0] pp;
            hwgen_mul_pp #(.A_W(A_W), .B_W(B_W), .K(K)) u_pp (.a(a), .b(b), .pp(pp));
            always_ff @(posedge clk) leaves_q <= (NP*P_W)'(pp);
        end
    endgenerate

    // Adder tree: level j holds NP >> j sums (modulo 2**P_W, exact: the total fits P_W bits);
    // levels 2, 4, ... and the last are registered.
    for (genvar j = 0; j <= LV; j++) begin : g_lv
        localparam int N = NP >> j;
        logic [N*P_W-1:0] sum, out;
        if (j == 0) begin : g_leaves
            assign sum = leaves_q;
        end else begin : g_adders
            always_comb begin
                for (int n = 0; n < N; n++)
                    sum[n*P_W +: P_W] = g_lv[j-1].out[2*n*P_W +: P_W]
                                      + g_lv[j-1].out[(2*n + 1)*P_W +: P_W];
            end
        end
        if (j > 0 && (j % 2 == 0 || j == LV)) begin : g_reg
            always_ff @(posedge clk) out <= sum;
        end else begin : g_wire
            assign out = sum;
        end
    end

    // PAD more registers on the product
    logic [(PADS+1)*P_W-1:0] delay;
    assign delay[0 +: P_W] = g_lv[LV].out[0 +: P_W];
    for (genvar d = 1; d <= PADS; d++) begin : g_pad
        always_ff @(posedge clk) delay[d*P_W +: P_W] <= delay[(d-1)*P_W +: P_W];
    end
    assign p = delay[PADS*P_W +: P_W];
endmodule
