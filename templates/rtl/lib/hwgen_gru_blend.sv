// hwgen_gru_blend: h'[j] = io(((ONE - z[j] <<< Z_SHIFT) * n[j]) <<< NZ_SHIFT
//                             + (z[j] * h[j]) <<< ZH_SHIFT)
// for all H units of a GRU cell, bit-exact with hwgen.ir.graph.gru_step: (1 - z) * n + z * h at
// the finer of the two products' scales (ONE is 1 at z's scale or finer), then the io
// quantizer. The sum is computed modulo 2**SUM_W, which holds its exact range (derived in
// Python). Operands are widened by one bit (signed); ONE - z has OMZ_W signed bits.
// Pipeline: the two products (hwgen_mul, MUL_LATENCY), their sum (1), hwgen_requant with PIPE
// (2). LANES units per cycle (hwgen_lanes). LANES = H: LATENCY = MUL_LATENCY + 3 cycles from
// in_valid to out_valid; z, n and h are read in the in_valid cycle only. LANES < H: LATENCY =
// MUL_LATENCY + 3 + H/LANES (hwgen/cores.py lane_latency), a vector every H/LANES cycles at
// most. h_new holds from out_valid until the next vector's first chunk is done. Nothing stalls.
module hwgen_gru_blend #(
    parameter int H        = 1,
    parameter int LANES    = H,  // units per cycle (divides H)
    parameter int Z_W      = 8,
    parameter bit Z_SIGNED = 1'b0,
    parameter int N_W      = 8,
    parameter bit N_SIGNED = 1'b1,
    parameter int H_W      = 8,
    parameter bit H_SIGNED = 1'b1,
    parameter int ONE      = 256,
    parameter int Z_SHIFT  = 0,
    parameter int OMZ_W    = 10,
    parameter int NZ_SHIFT = 0,
    parameter int ZH_SHIFT = 0,
    parameter int SUM_W    = 18,
    parameter int SHIFT    = 0,   // the io requantizer's
    parameter int ROUNDING = 0,
    parameter int H_MIN    = -128,
    parameter int H_MAX    = 127,
    parameter int MUL_STYLE = 0,
    parameter int MUL_LATENCY = 1
) (
    input  logic             clk,
    input  logic             rst,
    input  logic [H*Z_W-1:0] z,
    input  logic [H*N_W-1:0] n,
    input  logic [H*H_W-1:0] h,
    input  logic             in_valid,
    output logic [H*H_W-1:0] h_new,
    output logic             out_valid
);
    localparam int U = MUL_LATENCY + 3;  // the lanes' latency: products, sum, requantizer
    localparam int P1_W = OMZ_W + N_W + 1;
    localparam int P2_W = Z_W + H_W + 2;
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = U + (H / LANES == 1 ? 0 : H / LANES);
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (ONE < 1 || Z_SHIFT < 0 || NZ_SHIFT < 0 || ZH_SHIFT < 0 || OMZ_W < 2 || SUM_W < 2)
            $fatal(1, "hwgen_gru_blend: ONE=%0d >= 1, shifts >= 0, OMZ_W=%0d and SUM_W=%0d >= 2",
                   ONE, OMZ_W, SUM_W);
    end

    logic                 first;
    logic [U-1:0]         valid_q;
    logic [LANES*Z_W-1:0] z_lane;
    logic [LANES*N_W-1:0] n_lane;
    logic [LANES*H_W-1:0] h_lane;
    logic [LANES*H_W-1:0] out_lane;

    /* verilator lint_off PINCONNECTEMPTY */  // the lanes' own valid line (fire_q) is enough
    hwgen_lanes #(.N(H), .LANES(LANES), .W(H_W), .DELAY(U)) u_lanes (
        .clk(clk), .rst(rst), .in_valid(in_valid), .fire(), .beat(), .first(first),
        .fire_q(valid_q), .lane_valid(valid_q[U-1]), .lane_data(out_lane), .out_data(h_new),
        .out_valid(out_valid)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(Z_W))
        u_z (.clk(clk), .in_data(z), .first(first), .out_data(z_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(N_W))
        u_n (.clk(clk), .in_data(n), .first(first), .out_data(n_lane));
    hwgen_lane_shift #(.N(H), .LANES(LANES), .W(H_W))
        u_h (.clk(clk), .in_data(h), .first(first), .out_data(h_lane));

    for (genvar j = 0; j < LANES; j++) begin : g_unit
        logic signed [Z_W:0]    z_s;
        logic signed [N_W:0]    n_s;
        logic signed [H_W:0]    h_s;
        logic signed [OMZ_W-1:0] omz;
        /* verilator lint_off UNUSEDSIGNAL */  // the sum may need fewer bits than a product
        logic signed [P1_W-1:0] p1;
        logic signed [P2_W-1:0] p2;
        /* verilator lint_on UNUSEDSIGNAL */
        logic signed [SUM_W-1:0] sum_q;
        assign z_s = {Z_SIGNED & z_lane[j*Z_W + Z_W - 1], z_lane[j*Z_W +: Z_W]};
        assign n_s = {N_SIGNED & n_lane[j*N_W + N_W - 1], n_lane[j*N_W +: N_W]};
        assign h_s = {H_SIGNED & h_lane[j*H_W + H_W - 1], h_lane[j*H_W +: H_W]};
        assign omz = OMZ_W'(ONE) - (OMZ_W'(z_s) <<< Z_SHIFT);
        hwgen_mul #(.A_W(OMZ_W), .B_W(N_W + 1), .MUL_STYLE(MUL_STYLE), .LATENCY(MUL_LATENCY))
            u_p1 (.clk(clk), .a(omz), .b(n_s), .p(p1));
        hwgen_mul #(.A_W(Z_W + 1), .B_W(H_W + 1), .MUL_STYLE(MUL_STYLE), .LATENCY(MUL_LATENCY))
            u_p2 (.clk(clk), .a(z_s), .b(h_s), .p(p2));
        always_ff @(posedge clk)
            sum_q <= (SUM_W'(p1) <<< NZ_SHIFT) + (SUM_W'(p2) <<< ZH_SHIFT);
        hwgen_requant #(
            .IN_W(SUM_W), .IN_SIGNED(1'b1), .SHIFT(SHIFT), .ROUNDING(ROUNDING), .OUT_W(H_W),
            .OUT_SIGNED(H_SIGNED), .OUT_MIN(H_MIN), .OUT_MAX(H_MAX), .PIPE(1'b1)
        ) u_h_new (.clk(clk), .x(sum_q), .y(out_lane[j*H_W +: H_W]));
    end
endmodule
