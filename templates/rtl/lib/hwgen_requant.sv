// hwgen_requant: requantizer, bit-exact with
//   hwgen.reference.kernels.requantize(x, from_exp, IntType(OUT_W, OUT_SIGNED, ...), rounding)
// PIPE = 0: combinational (clk is not used). PIPE = 1: two registers, one after the rounding add
// and one after the saturation compare: y is x's result LATENCY = 2 cycles later, one x per cycle,
// never stalling (hwgen/cores.py REQUANT_PIPE_LATENCY).
// x is an IN_W-bit code, two's complement when IN_SIGNED (the default), else plain binary.
// With SHIFT = to.exp - from_exp:
//   SHIFT < 0   exact left shift by -SHIFT
//   SHIFT == 0  no shift
//   SHIFT > 0   right shift by SHIFT, rounded as ROUNDING says:
//               0 = half to even (Brevitas ROUND), 1 = floor, 2 = ceil, 3 = toward zero
// then saturation to [OUT_MIN, OUT_MAX] (the output type's range, narrow or not). OUT_W <= 31:
// the bounds are int parameters, which Verilator's -G and every wrapper pass without casts.
// y carries the OUT_W-bit code; it is two's complement when OUT_SIGNED, plain binary otherwise.
// Internally x is widened by -SHIFT (left shift), SHIFT (remainder) and 2 guard bits, so no
// intermediate value can overflow; with PIPE the rounded value is registered in the RW bits it
// needs.
module hwgen_requant #(
    parameter int     IN_W       = 8,
    parameter bit     IN_SIGNED  = 1'b1,
    parameter int     SHIFT      = 0,
    parameter int     ROUNDING   = 0,
    parameter int     OUT_W      = 8,
    parameter bit     OUT_SIGNED = 1'b1,
    parameter int     OUT_MIN    = -128,
    parameter int     OUT_MAX    = 127,
    parameter bit     PIPE       = 1'b0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // only PIPE = 1 uses the clock
    input  logic             clk,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [IN_W-1:0]  x,
    output logic [OUT_W-1:0] y
);
    localparam int LS = SHIFT < 0 ? -SHIFT : 0;  // exact left shift
    localparam int RS = SHIFT > 0 ? SHIFT : 0;   // rounded right shift
    localparam int WI = IN_W + LS + RS + 2;      // every intermediate fits in WI signed bits
    localparam int CW = WI > 32 ? WI : 32;       // comparison width (bounds are 32-bit int)
    // The rounded value as a signed number: |x| * 2**(LS-RS), +1 for rounding up, one sign bit
    // (and one more for an unsigned x); at least 2 bits when x is shifted past its width.
    localparam int RW0 = IN_W + (IN_SIGNED ? 0 : 1) + LS - RS + 1;
    localparam int RW = RW0 > 2 ? RW0 : 2;
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = PIPE ? 2 : 0;
    /* verilator lint_on UNUSEDPARAM */

    // The output type's full range; 64-bit so that OUT_W = 31 unsigned does not overflow.
    localparam logic signed [63:0] TYPE_MIN = OUT_SIGNED ? -(64'sd1 <<< (OUT_W - 1)) : 64'sd0;
    localparam logic signed [63:0] TYPE_MAX = OUT_SIGNED ? (64'sd1 <<< (OUT_W - 1)) - 1
                                             : (64'sd1 <<< OUT_W) - 1;

    initial begin
        if (IN_W < 1 || (IN_SIGNED && IN_W < 2))
            $fatal(1, "hwgen_requant: IN_W=%0d too small", IN_W);
        if (OUT_W < 1 || OUT_W > 31 || (OUT_SIGNED && OUT_W < 2))
            $fatal(1, "hwgen_requant: OUT_W=%0d outside 1..31 (2..31 when signed)", OUT_W);
        if (ROUNDING < 0 || ROUNDING > 3)
            $fatal(1, "hwgen_requant: ROUNDING=%0d is not 0..3", ROUNDING);
        if (OUT_MIN > OUT_MAX || 64'(OUT_MIN) < TYPE_MIN || 64'(OUT_MAX) > TYPE_MAX)
            $fatal(1, "hwgen_requant: [OUT_MIN, OUT_MAX]=[%0d, %0d] outside the %0d-bit %s range",
                   OUT_MIN, OUT_MAX, OUT_W, OUT_SIGNED ? "signed" : "unsigned");
    end

    logic signed [WI-1:0] xe;       // x, sign- or zero-extended
    logic signed [WI-1:0] scaled;   // x * 2**LS, exact
    logic signed [WI-1:0] rounded;  // scaled * 2**-RS, rounded
    logic signed [CW-1:0] wide;     // rounded, extended to compare with the int bounds

    assign xe     = IN_SIGNED ? WI'($signed(x)) : WI'($unsigned(x));
    assign scaled = xe <<< LS;

    generate
        if (RS == 0) begin : g_no_round
            assign rounded = scaled;
        end else begin : g_round
            logic signed [WI-1:0] floor_q;  // arithmetic shift = floor division
            logic                 half;     // bit RS-1 of the remainder: remainder >= 1/2
            logic                 sticky;   // any remainder bit below the half bit
            logic                 inc;      // add one to floor_q
            assign floor_q = scaled >>> RS;
            assign half    = scaled[RS-1];
            if (RS == 1) begin : g_no_sticky
                assign sticky = 1'b0;
            end else begin : g_sticky
                assign sticky = |scaled[RS-2:0];
            end
            always_comb begin
                case (ROUNDING)
                    1:       inc = 1'b0;                                 // floor
                    2:       inc = half | sticky;                        // ceil
                    3:       inc = (half | sticky) & scaled[WI-1];       // toward zero
                    default: inc = half & (sticky | floor_q[0]);         // half to even
                endcase
            end
            assign rounded = floor_q + WI'(inc);
        end
    endgenerate

    logic [OUT_W-1:0] sat;  // the saturated result
    generate
        if (PIPE) begin : g_pipe
            logic signed [RW-1:0] rounded_q;  // exact: the rounded value fits RW bits
            /* verilator lint_off UNUSEDSIGNAL */  // the bits above RW only repeat the sign
            logic signed [WI-1:0] rounded_w;
            /* verilator lint_on UNUSEDSIGNAL */
            assign rounded_w = rounded;
            always_ff @(posedge clk) begin
                rounded_q <= rounded_w[RW-1:0];
                y         <= sat;
            end
            assign wide = CW'(rounded_q);
        end else begin : g_comb
            assign wide = CW'(rounded);
            assign y    = sat;
        end
    endgenerate

    always_comb begin
        if (wide > CW'(OUT_MAX))      sat = OUT_W'(OUT_MAX);
        else if (wide < CW'(OUT_MIN)) sat = OUT_W'(OUT_MIN);
        else                          sat = OUT_W'(wide);
    end
endmodule
