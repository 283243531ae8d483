// hwgen_lane_sel: chunk `beat` of a vector of N elements of W bits, LANES elements wide:
// out_data = elements beat*LANES .. beat*LANES + LANES - 1 (combinational; a multiplexer over the
// N / LANES chunks, the vector itself when LANES = N). It serves the gate's biases (hwgen_gate):
// with a constant in_data it is a small table indexed by beat. A stage's data inputs go through
// hwgen_lane_shift instead, which needs no multiplexer over the chunks.
module hwgen_lane_sel #(
    parameter int N     = 1,
    parameter int LANES = 1,  // divides N (hwgen_lanes checks it)
    parameter int W     = 8
) (
    input  logic [N*W-1:0]     in_data,
    /* verilator lint_off UNUSEDSIGNAL */  // one chunk: beat is not read
    input  logic [(N/LANES > 1 ? $clog2(N/LANES) : 1)-1:0] beat,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [LANES*W-1:0] out_data
);
    localparam int BEATS = N / LANES;
    localparam int BW    = BEATS > 1 ? $clog2(BEATS) : 1;

    always_comb begin
        out_data = in_data[0 +: LANES*W];
        for (int b = 1; b < BEATS; b++)
            if (beat == BW'(b)) out_data = in_data[b*LANES*W +: LANES*W];
    end
endmodule
