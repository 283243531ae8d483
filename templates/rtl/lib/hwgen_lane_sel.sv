// hwgen_lane_sel: chunk `beat` of a vector of N elements of W bits, LANES elements wide:
// out_data = elements beat*LANES .. beat*LANES + LANES - 1 (combinational; a multiplexer over the
// N / LANES chunks, the vector itself when LANES = N). It serves the gate's biases (hwgen_gate):
// with a constant in_data it is a small table indexed by beat. With FILE the vector is that data
// file's N words instead (hwgen_const_vec: line k, element k) and in_data is not read, so the
// biases can be rewritten without touching a design's sources. A stage's data inputs go through
// hwgen_lane_shift instead, which needs no multiplexer over the chunks.
module hwgen_lane_sel #(
    parameter int N     = 1,
    parameter int LANES = 1,  // divides N (hwgen_lanes checks it)
    parameter int W     = 8,
    parameter     FILE  = ""  // "": the vector is in_data
) (
    /* verilator lint_off UNUSEDSIGNAL */  // not read with FILE
    input  logic [N*W-1:0]     in_data,
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */  // one chunk: beat is not read
    input  logic [(N/LANES > 1 ? $clog2(N/LANES) : 1)-1:0] beat,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [LANES*W-1:0] out_data
);
    localparam int BEATS = N / LANES;
    localparam int BW    = BEATS > 1 ? $clog2(BEATS) : 1;

    logic [N*W-1:0] vec;  // in_data, or FILE's words
    if (FILE == "") begin : g_port
        assign vec = in_data;
    end else begin : g_file
        hwgen_const_vec #(.N(N), .W(W), .FILE(FILE)) u_words (.data(vec));
    end

    always_comb begin
        out_data = vec[0 +: LANES*W];
        for (int b = 1; b < BEATS; b++)
            if (beat == BW'(b)) out_data = vec[b*LANES*W +: LANES*W];
    end
endmodule
