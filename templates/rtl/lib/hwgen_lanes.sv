// hwgen_lanes: runs an elementwise stage's N units through LANES copies of its unit logic, one
// chunk of LANES units per cycle: chunk b (b = 0 .. BEATS-1, BEATS = N / LANES) is units
// b*LANES .. b*LANES + LANES - 1. It is the beat counter and the result register of such a stage;
// the stage selects its inputs' chunk `beat` (hwgen_lane_sel) and computes it in its lanes.
//
// in_valid starts a vector: chunk 0 enters the lanes in that cycle (fire, beat = 0), chunk b
// b cycles later. The stage's inputs must hold their values from in_valid for BEATS cycles, and
// in_valid may rise again only after them (at most one vector every BEATS cycles). The lanes
// return the chunks in order, one lane_valid per chunk, after their own latency U.
// BEATS = 1: fire = in_valid, out_data = lane_data, out_valid = lane_valid (no logic: the stage is
// exactly its fully parallel self, LATENCY = U). BEATS > 1: each chunk is registered into its
// place of out_data; out_valid rises in the cycle after the last chunk's lane_valid, so
// LATENCY = U + BEATS (hwgen/cores.py lane_latency). out_data holds from out_valid until the
// next vector's first chunk leaves the lanes (U cycles after the next in_valid).
// fire_q is fire delayed by 1 .. DELAY cycles (bit d-1: by d cycles; reset clears it), the valid
// line of a stage whose lanes are a fixed pipeline: the stage feeds one of its bits back as
// lane_valid (DELAY = U) or on to a core that keeps its own valid. DELAY = 0: no line.
module hwgen_lanes #(
    parameter int N     = 1,  // units
    parameter int LANES = 1,  // units per cycle (divides N)
    parameter int W     = 8,  // bits of one unit's result
    parameter int DELAY = 0,  // length of the fire_q line
    localparam int DW = DELAY > 0 ? DELAY : 1
) (
    /* verilator lint_off UNUSEDSIGNAL */  // BEATS = 1 has no register
    input  logic                  clk,
    input  logic                  rst,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic                  in_valid,
    output logic                  fire,       // a chunk enters the lanes in this cycle
    output logic [(N/LANES > 1 ? $clog2(N/LANES) : 1)-1:0] beat,  // which chunk
    output logic                  first,      // beat == 0, from a register of its own
    output logic [DW-1:0]         fire_q,     // fire delayed by 1 .. DELAY cycles (DELAY = 0: 0)
    input  logic                  lane_valid, // the next chunk's result is on lane_data
    input  logic [LANES*W-1:0]    lane_data,
    output logic [N*W-1:0]        out_data,
    output logic                  out_valid
);
    localparam int BEATS = N / LANES;
    localparam int BW    = BEATS > 1 ? $clog2(BEATS) : 1;

    initial begin
        if (LANES < 1 || N % LANES != 0 || DELAY < 0)
            $fatal(1, "hwgen_lanes: LANES=%0d must divide the N=%0d units, DELAY=%0d >= 0",
                   LANES, N, DELAY);
    end

    generate
        if (DELAY == 1) begin : g_delay1
            always_ff @(posedge clk) fire_q <= rst ? 1'b0 : fire;
        end else if (DELAY > 1) begin : g_delay
            always_ff @(posedge clk) fire_q <= rst ? '0 : {fire_q[DW-2:0], fire};
        end else begin : g_no_delay
            assign fire_q = '0;
        end
    endgenerate

    generate
        if (BEATS == 1) begin : g_parallel
            assign fire      = in_valid;
            assign beat      = '0;
            assign first     = 1'b1;
            assign out_data  = lane_data;
            assign out_valid = lane_valid;
        end else begin : g_folded
            logic [BW-1:0] in_beat, out_beat;
            logic          busy;  // chunks 1 .. BEATS-1 of a vector are still to enter
            assign fire = in_valid || busy;
            assign beat = in_beat;
            // first is kept equal to in_beat == 0 in a register, so the stages' chunk selects
            // (hwgen_lane_shift) start from a flip-flop, not from a compare on the counter.
            always_ff @(posedge clk) begin
                if (rst) begin
                    busy      <= 1'b0;
                    first     <= 1'b1;
                    in_beat   <= '0;
                    out_beat  <= '0;
                    out_valid <= 1'b0;
                end else begin
                    if (fire) begin
                        busy    <= in_beat != BW'(BEATS - 1);
                        first   <= in_beat == BW'(BEATS - 1);
                        in_beat <= in_beat == BW'(BEATS - 1) ? '0 : in_beat + 1'b1;
                    end
                    if (lane_valid)
                        out_beat <= out_beat == BW'(BEATS - 1) ? '0 : out_beat + 1'b1;
                    out_valid <= lane_valid && out_beat == BW'(BEATS - 1);
                end
            end
            for (genvar b = 0; b < BEATS; b++) begin : g_chunk
                always_ff @(posedge clk)
                    if (lane_valid && out_beat == BW'(b))
                        out_data[b*LANES*W +: LANES*W] <= lane_data;
            end
        end
    endgenerate
endmodule
