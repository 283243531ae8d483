// hwgen_gru_cell: the elementwise part of one GRU step for all H units, bit-exact with
// hwgen.ir.graph.gru_step (PyTorch's GRU equations on codes, hwgen.reference.gru):
//   r  = sigmoid_r(reset_acc(x_acc_r <<< R_X_SHIFT + h_acc_r <<< R_H_SHIFT + R_BIAS))  hwgen_gate
//   z  = sigmoid_z(update_acc(x_acc_z <<< Z_X_SHIFT + h_acc_z <<< Z_H_SHIFT + Z_BIAS)) hwgen_gate
//   hn = hidden_acc(h_acc_n <<< HN_SHIFT + HN_BIAS)                              hwgen_requant
//   n  = tanh_n(new_acc(x_acc_n <<< N_X_SHIFT + (r * hn) <<< N_RH_SHIFT + N_BIAS))   hwgen_gate
//   h' = io(((ONE - z <<< Z_SHIFT) * n) <<< NZ_SHIFT + (z * h) <<< ZH_SHIFT)       hwgen_requant
// x_acc and h_acc are the three gates' rows (reset, update, new; H each, signed AX_W / AH_W bits)
// of the two matrix-vector units; h is the hidden state the step started from. Every sum is
// computed modulo 2**(its SUM_W), which holds its exact range (derived in Python), so wrapped
// intermediate terms cannot change the result. Products are hwgen_mul (operands widened by one
// bit, so an unsigned code is a non-negative signed one).
// Schedule: in_valid registers x_acc's and h_acc's new-gate rows and h (x_acc, h_acc and h are
// read in the in_valid cycle only). r and z come GATE = 4 cycles later (hn after 3); r * hn takes
// RH_MUL_LATENCY; the new gate's hwgen_gate 4; the blend's products B_MUL_LATENCY, their sum 1 and
// its requantizer 2: LATENCY = 11 + RH_MUL_LATENCY + B_MUL_LATENCY cycles from in_valid to
// out_valid (hwgen/cores.py gru_cell_latency). One step at a time: in_valid may rise again only
// after out_valid. h_new holds from out_valid until the next step's result. Nothing stalls.
module hwgen_gru_cell #(
    parameter int H       = 1,
    parameter int AX_W    = 16,
    parameter int AH_W    = 16,
    parameter int H_W     = 8,
    parameter bit H_SIGNED = 1'b1,
    // reset gate (hwgen_gate's parameters)
    parameter int R_X_SHIFT = 0,
    parameter int R_H_SHIFT = 0,
    parameter int R_SUM_W   = 18,
    parameter logic [H*R_SUM_W-1:0] R_BIAS = '0,
    parameter int R_ACC_SHIFT = 0,
    parameter int R_ROUNDING  = 0,
    parameter int R_ACC_W     = 8,
    parameter bit R_ACC_SIGNED = 1'b1,
    parameter int R_ACC_MIN   = -128,
    parameter int R_ACC_MAX   = 127,
    parameter int R_W         = 8,
    parameter bit R_SIGNED    = 1'b0,
    parameter logic [(R_ACC_MAX-R_ACC_MIN+1)*R_W-1:0] R_TABLE = '0,
    // update gate
    parameter int Z_X_SHIFT = 0,
    parameter int Z_H_SHIFT = 0,
    parameter int Z_SUM_W   = 18,
    parameter logic [H*Z_SUM_W-1:0] Z_BIAS = '0,
    parameter int Z_ACC_SHIFT = 0,
    parameter int Z_ROUNDING  = 0,
    parameter int Z_ACC_W     = 8,
    parameter bit Z_ACC_SIGNED = 1'b1,
    parameter int Z_ACC_MIN   = -128,
    parameter int Z_ACC_MAX   = 127,
    parameter int Z_W         = 8,
    parameter bit Z_SIGNED    = 1'b0,
    parameter logic [(Z_ACC_MAX-Z_ACC_MIN+1)*Z_W-1:0] Z_TABLE = '0,
    // hn: the new gate's h part
    parameter int HN_SHIFT  = 0,
    parameter int HN_SUM_W  = 18,
    parameter logic [H*HN_SUM_W-1:0] HN_BIAS = '0,
    parameter int HN_ACC_SHIFT = 0,
    parameter int HN_ROUNDING  = 0,
    parameter int HN_W      = 8,
    parameter bit HN_SIGNED = 1'b1,
    parameter int HN_MIN    = -128,
    parameter int HN_MAX    = 127,
    parameter int RH_MUL_STYLE   = 0,
    parameter int RH_MUL_LATENCY = 1,
    // new gate: x part and r * hn
    parameter int N_X_SHIFT  = 0,
    parameter int N_RH_SHIFT = 0,
    parameter int N_SUM_W    = 18,
    parameter logic [H*N_SUM_W-1:0] N_BIAS = '0,
    parameter int N_ACC_SHIFT = 0,
    parameter int N_ROUNDING  = 0,
    parameter int N_ACC_W     = 8,
    parameter bit N_ACC_SIGNED = 1'b1,
    parameter int N_ACC_MIN   = -128,
    parameter int N_ACC_MAX   = 127,
    parameter int N_W         = 8,
    parameter bit N_SIGNED    = 1'b1,
    parameter logic [(N_ACC_MAX-N_ACC_MIN+1)*N_W-1:0] N_TABLE = '0,
    // blend
    parameter int ONE      = 256,
    parameter int Z_SHIFT  = 0,
    parameter int OMZ_W    = 10,  // signed bits of ONE - z <<< Z_SHIFT
    parameter int NZ_SHIFT = 0,
    parameter int ZH_SHIFT = 0,
    parameter int B_SUM_W  = 18,
    parameter int B_SHIFT  = 0,
    parameter int B_ROUNDING = 0,
    parameter int H_MIN    = -128,
    parameter int H_MAX    = 127,
    parameter int B_MUL_STYLE   = 0,
    parameter int B_MUL_LATENCY = 1
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [3*H*AX_W-1:0] x_acc,
    input  logic [3*H*AH_W-1:0] h_acc,
    input  logic [H*H_W-1:0]   h,
    input  logic               in_valid,
    output logic [H*H_W-1:0]   h_new,
    output logic               out_valid
);
    localparam int RA_W = R_W + 1;               // r as a signed operand
    localparam int HB_W = HN_W + 1;              // hn as a signed operand
    localparam int RH_W = RA_W + HB_W;           // r * hn
    localparam int NB_W = N_W + 1;               // n as a signed operand
    localparam int ZA_W = Z_W + 1;               // z as a signed operand
    localparam int HA_W = H_W + 1;               // h as a signed operand
    localparam int P1_W = OMZ_W + NB_W;          // (ONE - z) * n
    localparam int P2_W = ZA_W + HA_W;           // z * h
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = 11 + RH_MUL_LATENCY + B_MUL_LATENCY;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (HN_SHIFT < 0 || NZ_SHIFT < 0 || ZH_SHIFT < 0 || Z_SHIFT < 0 || ONE < 1
            || HN_SUM_W < 2 || B_SUM_W < 2 || OMZ_W < 2 || RH_MUL_LATENCY < 1 || B_MUL_LATENCY < 1)
            $fatal(1, "hwgen_gru_cell: shifts must be >= 0, ONE=%0d >= 1, sums >= 2 bits, %s",
                   ONE, "mul latencies >= 1");
    end

    logic [H*AX_W-1:0] xn_q;   // the new gate's x part, registered on in_valid
    logic [H*H_W-1:0]  h_q;    // the step's h
    logic [H*R_W-1:0]  r;
    logic [H*Z_W-1:0]  z;
    logic [H*HN_W-1:0] hn;
    logic [H*RH_W-1:0] rh;
    logic [H*N_W-1:0]  n;
    logic              r_valid, n_start, n_valid;
    logic [RH_MUL_LATENCY-1:0]  rh_q;     // r_valid delayed by 1 .. RH_MUL_LATENCY cycles
    logic [B_MUL_LATENCY+2:0]   b_q;      // n_valid delayed by 1 .. B_MUL_LATENCY + 3 cycles

    always_ff @(posedge clk) begin
        if (in_valid) begin
            xn_q <= x_acc[2*H*AX_W +: H*AX_W];
            h_q  <= h;
        end
        rh_q <= rst ? '0 : (rh_q << 1) | RH_MUL_LATENCY'(r_valid);
        b_q  <= rst ? '0 : (b_q << 1) | (B_MUL_LATENCY + 3)'(n_valid);
    end
    assign n_start   = rh_q[RH_MUL_LATENCY-1];
    assign out_valid = b_q[B_MUL_LATENCY+2];

    /* verilator lint_off PINCONNECTEMPTY */  // z comes with r: r_valid times both
    hwgen_gate #(
        .H(H), .AX_W(AX_W), .AH_W(AH_W), .X_SHIFT(R_X_SHIFT), .H_SHIFT(R_H_SHIFT),
        .SUM_W(R_SUM_W), .BIAS(R_BIAS), .ACC_SHIFT(R_ACC_SHIFT), .ROUNDING(R_ROUNDING),
        .ACC_W(R_ACC_W), .ACC_SIGNED(R_ACC_SIGNED), .ACC_MIN(R_ACC_MIN), .ACC_MAX(R_ACC_MAX),
        .ACT_W(R_W), .TABLE(R_TABLE)
    ) u_r (
        .clk(clk), .rst(rst), .x_acc(x_acc[0 +: H*AX_W]), .h_acc(h_acc[0 +: H*AH_W]),
        .in_valid(in_valid), .act(r), .out_valid(r_valid)
    );
    hwgen_gate #(
        .H(H), .AX_W(AX_W), .AH_W(AH_W), .X_SHIFT(Z_X_SHIFT), .H_SHIFT(Z_H_SHIFT),
        .SUM_W(Z_SUM_W), .BIAS(Z_BIAS), .ACC_SHIFT(Z_ACC_SHIFT), .ROUNDING(Z_ROUNDING),
        .ACC_W(Z_ACC_W), .ACC_SIGNED(Z_ACC_SIGNED), .ACC_MIN(Z_ACC_MIN), .ACC_MAX(Z_ACC_MAX),
        .ACT_W(Z_W), .TABLE(Z_TABLE)
    ) u_z (
        .clk(clk), .rst(rst), .x_acc(x_acc[H*AX_W +: H*AX_W]), .h_acc(h_acc[H*AH_W +: H*AH_W]),
        .in_valid(in_valid), .act(z), .out_valid()
    );
    /* verilator lint_on PINCONNECTEMPTY */

    for (genvar j = 0; j < H; j++) begin : g_unit
        logic signed [HN_SUM_W-1:0] hn_sum_q;
        logic signed [RA_W-1:0]     r_op;
        logic signed [HB_W-1:0]     hn_op;
        logic signed [NB_W-1:0]     n_op;
        logic signed [ZA_W-1:0]     z_op;
        logic signed [HA_W-1:0]     h_op;
        logic signed [OMZ_W-1:0]    omz;
        /* verilator lint_off UNUSEDSIGNAL */  // the blend sum may need fewer bits than a product
        logic signed [P1_W-1:0]     p1;
        logic signed [P2_W-1:0]     p2;
        /* verilator lint_on UNUSEDSIGNAL */
        logic signed [B_SUM_W-1:0]  b_sum_q;

        // hn: the h part of the new gate, its bias, then hidden_acc (ready 3 cycles after in_valid)
        always_ff @(posedge clk) begin
            if (in_valid)
                hn_sum_q <= (HN_SUM_W'($signed(h_acc[(2*H + j)*AH_W +: AH_W])) <<< HN_SHIFT)
                          + $signed(HN_BIAS[j*HN_SUM_W +: HN_SUM_W]);
        end
        hwgen_requant #(
            .IN_W(HN_SUM_W), .IN_SIGNED(1'b1), .SHIFT(HN_ACC_SHIFT), .ROUNDING(HN_ROUNDING),
            .OUT_W(HN_W), .OUT_SIGNED(HN_SIGNED), .OUT_MIN(HN_MIN), .OUT_MAX(HN_MAX), .PIPE(1'b1)
        ) u_hn (.clk(clk), .x(hn_sum_q), .y(hn[j*HN_W +: HN_W]));

        assign r_op  = {R_SIGNED & r[j*R_W + R_W - 1], r[j*R_W +: R_W]};
        assign hn_op = {HN_SIGNED & hn[j*HN_W + HN_W - 1], hn[j*HN_W +: HN_W]};
        hwgen_mul #(.A_W(RA_W), .B_W(HB_W), .MUL_STYLE(RH_MUL_STYLE), .LATENCY(RH_MUL_LATENCY))
            u_rh (.clk(clk), .a(r_op), .b(hn_op), .p(rh[j*RH_W +: RH_W]));

        // blend: (ONE - z) * n + z * h at the finer of the two products' scales, then io
        assign z_op = {Z_SIGNED & z[j*Z_W + Z_W - 1], z[j*Z_W +: Z_W]};
        assign n_op = {N_SIGNED & n[j*N_W + N_W - 1], n[j*N_W +: N_W]};
        assign h_op = {H_SIGNED & h_q[j*H_W + H_W - 1], h_q[j*H_W +: H_W]};
        assign omz  = OMZ_W'(ONE) - (OMZ_W'(z_op) <<< Z_SHIFT);
        hwgen_mul #(.A_W(OMZ_W), .B_W(NB_W), .MUL_STYLE(B_MUL_STYLE), .LATENCY(B_MUL_LATENCY))
            u_p1 (.clk(clk), .a(omz), .b(n_op), .p(p1));
        hwgen_mul #(.A_W(ZA_W), .B_W(HA_W), .MUL_STYLE(B_MUL_STYLE), .LATENCY(B_MUL_LATENCY))
            u_p2 (.clk(clk), .a(z_op), .b(h_op), .p(p2));
        always_ff @(posedge clk)
            b_sum_q <= (B_SUM_W'(p1) <<< NZ_SHIFT) + (B_SUM_W'(p2) <<< ZH_SHIFT);
        hwgen_requant #(
            .IN_W(B_SUM_W), .IN_SIGNED(1'b1), .SHIFT(B_SHIFT), .ROUNDING(B_ROUNDING),
            .OUT_W(H_W), .OUT_SIGNED(H_SIGNED), .OUT_MIN(H_MIN), .OUT_MAX(H_MAX), .PIPE(1'b1)
        ) u_h (.clk(clk), .x(b_sum_q), .y(h_new[j*H_W +: H_W]));
    end

    hwgen_gate #(
        .H(H), .AX_W(AX_W), .AH_W(RH_W), .X_SHIFT(N_X_SHIFT), .H_SHIFT(N_RH_SHIFT),
        .SUM_W(N_SUM_W), .BIAS(N_BIAS), .ACC_SHIFT(N_ACC_SHIFT), .ROUNDING(N_ROUNDING),
        .ACC_W(N_ACC_W), .ACC_SIGNED(N_ACC_SIGNED), .ACC_MIN(N_ACC_MIN), .ACC_MAX(N_ACC_MAX),
        .ACT_W(N_W), .TABLE(N_TABLE)
    ) u_n (
        .clk(clk), .rst(rst), .x_acc(xn_q), .h_acc(rh), .in_valid(n_start), .act(n),
        .out_valid(n_valid)
    );
endmodule
