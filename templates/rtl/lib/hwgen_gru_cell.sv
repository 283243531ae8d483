// hwgen_gru_cell: the elementwise part of one GRU step for all H units, bit-exact with
// hwgen.ir.graph.gru_step (PyTorch's GRU equations on codes, hwgen.reference.gru):
//   r  = sigmoid_r(reset_acc(x_acc_r <<< R_X_SHIFT + h_acc_r <<< R_H_SHIFT + R_BIAS))  hwgen_gate
//   z  = sigmoid_z(update_acc(x_acc_z <<< Z_X_SHIFT + h_acc_z <<< Z_H_SHIFT + Z_BIAS)) hwgen_gate
//   hn = hidden_acc(h_acc_n <<< HN_SHIFT + HN_BIAS)                               hwgen_gru_hn
//   rh = r * hn                                                                 hwgen_gru_prod
//   n  = tanh_n(new_acc(x_acc_n <<< N_X_SHIFT + rh <<< N_RH_SHIFT + N_BIAS))          hwgen_gate
//   h' = io(((ONE - z <<< Z_SHIFT) * n) <<< NZ_SHIFT + (z * h) <<< ZH_SHIFT)     hwgen_gru_blend
// x_acc and h_acc are the three gates' rows (reset, update, new; H each, signed AX_W / AH_W bits)
// of the two matrix-vector units; h is the hidden state the step started from. x_acc, h_acc and
// h must hold from in_valid until out_valid (the GRU engine's units and controller hold them
// through a step).
// Schedule: r, z and hn start on in_valid (hn is done before r); rh starts when r is done, the
// new gate when rh is, the blend when n is. Every stage runs its units through LANES lanes
// (hwgen_lanes; B = H/LANES beats, and a stage of B > 1 adds B cycles): LATENCY = (4 + B') +
// (RH_MUL_LATENCY + B') + (4 + B') + (B_MUL_LATENCY + 3 + B') cycles from in_valid to
// out_valid, B' = 0 when LANES = H else B (hwgen/cores.py gru_cell_latency). One step at a time:
// in_valid may rise again only after out_valid. h_new is valid in the out_valid cycle (the
// controller registers it then). Nothing stalls.
module hwgen_gru_cell #(
    parameter int H       = 1,
    parameter int LANES   = H,  // units per cycle of every stage (divides H)
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
    parameter int B_MUL_LATENCY = 1,
    // data files replacing the biases and tables above (hwgen_gate, hwgen_gru_hn)
    parameter R_BIAS_FILE = "",
    parameter R_TABLE_FILE = "",
    parameter Z_BIAS_FILE = "",
    parameter Z_TABLE_FILE = "",
    parameter HN_BIAS_FILE = "",
    parameter N_BIAS_FILE = "",
    parameter N_TABLE_FILE = ""
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
    localparam int RH_W = R_W + HN_W + 2;  // r * hn (hwgen_gru_prod)
    localparam int BP = H / LANES == 1 ? 0 : H / LANES;  // cycles a lane-folded stage adds
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    // the two gates in the path (r, then n) take 5 cycles, one more each when lane-folded (their
    // registered chunk select); the blend's sum and requantizer 3 (hwgen/cores.py)
    localparam int LATENCY = 13 + RH_MUL_LATENCY + B_MUL_LATENCY + 4 * BP + (BP == 0 ? 0 : 2);
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (LANES < 1 || H % LANES != 0)
            $fatal(1, "hwgen_gru_cell: LANES=%0d must divide H=%0d", LANES, H);
    end

    logic [H*R_W-1:0]  r;
    logic [H*Z_W-1:0]  z;
    logic [H*HN_W-1:0] hn;
    logic [H*RH_W-1:0] rh;
    logic [H*N_W-1:0]  n;
    logic              r_valid, rh_valid, n_valid;

    /* verilator lint_off PINCONNECTEMPTY */  // z comes with r, hn before it: r_valid times all
    hwgen_gate #(
        .H(H), .LANES(LANES), .AX_W(AX_W), .AH_W(AH_W), .X_SHIFT(R_X_SHIFT), .H_SHIFT(R_H_SHIFT),
        .SUM_W(R_SUM_W), .BIAS(R_BIAS), .ACC_SHIFT(R_ACC_SHIFT), .ROUNDING(R_ROUNDING),
        .ACC_W(R_ACC_W), .ACC_SIGNED(R_ACC_SIGNED), .ACC_MIN(R_ACC_MIN), .ACC_MAX(R_ACC_MAX),
        .ACT_W(R_W), .TABLE(R_TABLE), .BIAS_FILE(R_BIAS_FILE), .TABLE_FILE(R_TABLE_FILE)
    ) u_r (
        .clk(clk), .rst(rst), .x_acc(x_acc[0 +: H*AX_W]), .h_acc(h_acc[0 +: H*AH_W]),
        .in_valid(in_valid), .act(r), .out_valid(r_valid)
    );
    hwgen_gate #(
        .H(H), .LANES(LANES), .AX_W(AX_W), .AH_W(AH_W), .X_SHIFT(Z_X_SHIFT), .H_SHIFT(Z_H_SHIFT),
        .SUM_W(Z_SUM_W), .BIAS(Z_BIAS), .ACC_SHIFT(Z_ACC_SHIFT), .ROUNDING(Z_ROUNDING),
        .ACC_W(Z_ACC_W), .ACC_SIGNED(Z_ACC_SIGNED), .ACC_MIN(Z_ACC_MIN), .ACC_MAX(Z_ACC_MAX),
        .ACT_W(Z_W), .TABLE(Z_TABLE), .BIAS_FILE(Z_BIAS_FILE), .TABLE_FILE(Z_TABLE_FILE)
    ) u_z (
        .clk(clk), .rst(rst), .x_acc(x_acc[H*AX_W +: H*AX_W]), .h_acc(h_acc[H*AH_W +: H*AH_W]),
        .in_valid(in_valid), .act(z), .out_valid()
    );
    hwgen_gru_hn #(
        .H(H), .LANES(LANES), .AH_W(AH_W), .SHIFT(HN_SHIFT), .SUM_W(HN_SUM_W), .BIAS(HN_BIAS),
        .ACC_SHIFT(HN_ACC_SHIFT), .ROUNDING(HN_ROUNDING), .OUT_W(HN_W), .OUT_SIGNED(HN_SIGNED),
        .OUT_MIN(HN_MIN), .OUT_MAX(HN_MAX), .BIAS_FILE(HN_BIAS_FILE)
    ) u_hn (
        .clk(clk), .rst(rst), .h_acc(h_acc[2*H*AH_W +: H*AH_W]), .in_valid(in_valid), .hn(hn),
        .out_valid()
    );
    /* verilator lint_on PINCONNECTEMPTY */
    hwgen_gru_prod #(
        .N(H), .LANES(LANES), .A_W(R_W), .A_SIGNED(R_SIGNED), .B_W(HN_W), .B_SIGNED(HN_SIGNED),
        .MUL_STYLE(RH_MUL_STYLE), .MUL_LATENCY(RH_MUL_LATENCY)
    ) u_rh (.clk(clk), .rst(rst), .a(r), .b(hn), .in_valid(r_valid), .p(rh), .out_valid(rh_valid));
    hwgen_gate #(
        .H(H), .LANES(LANES), .AX_W(AX_W), .AH_W(RH_W), .X_SHIFT(N_X_SHIFT), .H_SHIFT(N_RH_SHIFT),
        .SUM_W(N_SUM_W), .BIAS(N_BIAS), .ACC_SHIFT(N_ACC_SHIFT), .ROUNDING(N_ROUNDING),
        .ACC_W(N_ACC_W), .ACC_SIGNED(N_ACC_SIGNED), .ACC_MIN(N_ACC_MIN), .ACC_MAX(N_ACC_MAX),
        .ACT_W(N_W), .TABLE(N_TABLE), .BIAS_FILE(N_BIAS_FILE), .TABLE_FILE(N_TABLE_FILE)
    ) u_n (
        .clk(clk), .rst(rst), .x_acc(x_acc[2*H*AX_W +: H*AX_W]), .h_acc(rh), .in_valid(rh_valid),
        .act(n), .out_valid(n_valid)
    );
    hwgen_gru_blend #(
        .H(H), .LANES(LANES), .Z_W(Z_W), .Z_SIGNED(Z_SIGNED), .N_W(N_W), .N_SIGNED(N_SIGNED),
        .H_W(H_W), .H_SIGNED(H_SIGNED), .ONE(ONE), .Z_SHIFT(Z_SHIFT), .OMZ_W(OMZ_W),
        .NZ_SHIFT(NZ_SHIFT), .ZH_SHIFT(ZH_SHIFT), .SUM_W(B_SUM_W), .SHIFT(B_SHIFT),
        .ROUNDING(B_ROUNDING), .H_MIN(H_MIN), .H_MAX(H_MAX), .MUL_STYLE(B_MUL_STYLE),
        .MUL_LATENCY(B_MUL_LATENCY)
    ) u_blend (
        .clk(clk), .rst(rst), .z(z), .n(n), .h(h), .in_valid(n_valid), .h_new(h_new),
        .out_valid(out_valid)
    );
endmodule
