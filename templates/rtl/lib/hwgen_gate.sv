// hwgen_gate: one LSTM gate for all H units, bit-exact with hwgen.ir.graph's gate step:
//   sum[j] = (x_acc[j] <<< X_SHIFT) + (h_acc[j] <<< H_SHIFT) + BIAS[j]     (exact, SUM_W bits)
//   acc[j] = requantize(sum[j]) to the gate's accumulator quantizer (ACC_*)
//   act[j] = TABLE[acc[j] - ACC_MIN]                                      (sigmoid or tanh)
// x_acc and h_acc are the gate's rows of the two matrix-vector units (signed AX_W / AH_W bits).
// One cycle of latency (the table is registered): out_valid follows in_valid.
module hwgen_gate #(
    parameter int H        = 1,
    parameter int AX_W     = 16,
    parameter int AH_W     = 16,
    parameter int X_SHIFT  = 0,
    parameter int H_SHIFT  = 0,
    parameter int SUM_W    = 18,
    parameter logic [H*SUM_W-1:0] BIAS = '0,
    parameter int ACC_SHIFT = 0,
    parameter int ROUNDING  = 0,
    parameter int ACC_W     = 8,
    parameter bit ACC_SIGNED = 1'b1,
    parameter int ACC_MIN   = -128,
    parameter int ACC_MAX   = 127,
    parameter int ACT_W     = 8,
    parameter logic [(ACC_MAX-ACC_MIN+1)*ACT_W-1:0] TABLE = '0
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [H*AX_W-1:0]  x_acc,
    input  logic [H*AH_W-1:0]  h_acc,
    input  logic               in_valid,
    output logic [H*ACT_W-1:0] act,
    output logic               out_valid
);
    // The sum is computed modulo 2**SUM_W: SUM_W holds the gate's exact sum range (derived in
    // Python from the weights), so wrapped intermediate terms cannot change the result.
    initial begin
        if (X_SHIFT < 0 || H_SHIFT < 0 || SUM_W < 2)
            $fatal(1, "hwgen_gate: shifts %0d/%0d must be >= 0 and SUM_W=%0d >= 2",
                   X_SHIFT, H_SHIFT, SUM_W);
    end

    logic [H*ACC_W-1:0] acc;
    for (genvar j = 0; j < H; j++) begin : g_unit
        logic signed [SUM_W-1:0] sum;
        logic signed [SUM_W-1:0] bias;  // zero for a layer without bias
        assign bias = $signed(BIAS[j*SUM_W +: SUM_W]);
        assign sum = (SUM_W'($signed(x_acc[j*AX_W +: AX_W])) <<< X_SHIFT)
                   + (SUM_W'($signed(h_acc[j*AH_W +: AH_W])) <<< H_SHIFT) + bias;
        hwgen_requant #(
            .IN_W(SUM_W), .IN_SIGNED(1'b1), .SHIFT(ACC_SHIFT), .ROUNDING(ROUNDING),
            .OUT_W(ACC_W), .OUT_SIGNED(ACC_SIGNED), .OUT_MIN(ACC_MIN), .OUT_MAX(ACC_MAX)
        ) u_acc (.x(sum), .y(acc[j*ACC_W +: ACC_W]));
    end

    hwgen_lut_vec #(
        .N(H), .IN_W(ACC_W), .IN_SIGNED(ACC_SIGNED), .IN_MIN(ACC_MIN), .DEPTH(ACC_MAX - ACC_MIN + 1),
        .OUT_W(ACT_W), .TABLE(TABLE)
    ) u_act (
        .clk(clk), .rst(rst), .in_data(acc), .in_valid(in_valid), .out_data(act),
        .out_valid(out_valid)
    );
endmodule
