// hwgen_lut_vec: N lookups into one table in parallel (one hwgen_lut per element).
// Element k of in_data (bits [k*IN_W +: IN_W]) indexes TABLE; out_data element k is its entry.
// LATENCY = 1 cycle from in_valid to out_valid (hwgen/cores.py LUT_LATENCY), one vector per
// cycle; out_data holds its value until the next out_valid. The LSTM engines never stall this
// stage, so the elements' ready outputs are not used.
module hwgen_lut_vec #(
    parameter int N         = 1,
    parameter int IN_W      = 8,
    parameter bit IN_SIGNED = 1'b1,
    parameter int IN_MIN    = -128,
    parameter int DEPTH     = 256,
    parameter int OUT_W     = 8,
    parameter logic [DEPTH*OUT_W-1:0] TABLE = '0
) (
    input  logic               clk,
    input  logic               rst,
    input  logic [N*IN_W-1:0]  in_data,
    input  logic               in_valid,
    output logic [N*OUT_W-1:0] out_data,
    output logic               out_valid
);
    // Published for testbenches (read back through VPI), not used by the logic.
    /* verilator lint_off UNUSEDPARAM */
    localparam int LATENCY = 1;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (N < 1) $fatal(1, "hwgen_lut_vec: N=%0d must be positive", N);
    end

    logic [N-1:0] valid;
    for (genvar k = 0; k < N; k++) begin : g_lut
        /* verilator lint_off PINCONNECTEMPTY */  // ready is always 1: the caller never stalls
        hwgen_lut #(
            .IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .IN_MIN(IN_MIN), .DEPTH(DEPTH), .OUT_W(OUT_W),
            .TABLE(TABLE)
        ) u_lut (
            .clk(clk), .rst(rst),
            .in_data(in_data[k*IN_W +: IN_W]), .in_valid(in_valid), .in_ready(),
            .out_data(out_data[k*OUT_W +: OUT_W]), .out_valid(valid[k]), .out_ready(1'b1)
        );
        /* verilator lint_on PINCONNECTEMPTY */
    end
    assign out_valid = &valid;  // all elements run in lockstep
endmodule
