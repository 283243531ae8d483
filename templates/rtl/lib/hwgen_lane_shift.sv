// hwgen_lane_shift: chunk `beat` of a vector of N elements of W bits, LANES elements wide, as
// hwgen_lane_sel gives it, but without a multiplexer over the chunks: in beat 0 out_data is
// chunk 0 of in_data, and the other chunks are loaded into a shift register in that cycle and
// shifted down by one chunk per cycle, so in beat b (b cycles later) out_data is chunk b of the
// in_data of beat 0. The select is one 2:1 choice per output bit (first: beat == 0, a register
// in hwgen_lanes) instead of a BEATS:1 multiplexer driven by the beat counter, which set the
// clock of lane-folded designs. in_data need only be valid in beat 0; beats follow each other in
// consecutive cycles (hwgen_lanes). LANES = N: out_data = in_data, no register.
// REG = 1 (and LANES < N): out_data is registered, chunk b one cycle after beat b (the stage's
// lanes take one more cycle, hwgen/cores.py lane_latency with reg_select); the choice on first then
// feeds flip-flops only, not the stage's arithmetic (a multiplier's operands, an adder).
module hwgen_lane_shift #(
    parameter int N     = 1,
    parameter int LANES = 1,  // divides N (hwgen_lanes checks it)
    parameter int W     = 8,
    parameter bit REG   = 1'b0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // one chunk: no register, first not read
    input  logic                  clk,
    input  logic                  first,  // beat == 0 (hwgen_lanes' first, a register)
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [N*W-1:0]        in_data,
    output logic [LANES*W-1:0]    out_data
);
    localparam int BEATS = N / LANES;
    localparam int CW    = LANES * W;  // one chunk

    generate
        if (BEATS == 1) begin : g_parallel
            assign out_data = in_data;
        end else begin : g_shift
            logic [(BEATS-1)*CW-1:0] rest;  // chunks b+1 .. BEATS-1 of beat 0's in_data
            logic [CW-1:0]           chunk;  // chunk `beat`
            assign chunk = first ? in_data[0 +: CW] : rest[0 +: CW];
            always_ff @(posedge clk) begin
                if (first) rest <= in_data[CW +: (BEATS-1)*CW];
                else       rest <= rest >> CW;
            end
            if (REG) begin : g_reg
                always_ff @(posedge clk) out_data <= chunk;
            end else begin : g_comb
                assign out_data = chunk;
            end
        end
    endgenerate
endmodule
