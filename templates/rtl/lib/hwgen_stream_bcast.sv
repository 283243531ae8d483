// hwgen_stream_bcast: copies one stream (s_*) to two (ma_*, mb_*): every element goes to each
// output exactly once, tlast with it. A bidirectional layer sends its input sequence to both
// directions through one.
//
// The outputs may take an element at different times: taken_a / taken_b remember which output
// already has the current element, and s_tready rises in the cycle the second one takes it (or
// both at once), consuming it. Handshake: ma_tvalid = s_tvalid && !taken_a (likewise b), so an
// output's valid depends on s_tvalid and its flag, never on any ready; s_tready depends
// combinationally on ma_tready and mb_tready (as in any zero-latency stream stage). Data and tlast
// pass through unregistered.
//
// Timing: LATENCY = 0 (an element is offered on both outputs in the cycle it arrives); one
// element per cycle when both outputs are ready. The flags only cost cycles when the outputs
// stall: the element stays until the slower output has taken it.
module hwgen_stream_bcast #(
    parameter int W = 8
) (
    input  logic         clk,
    input  logic         rst,
    input  logic [W-1:0] s_tdata,
    input  logic         s_tvalid,
    input  logic         s_tlast,
    output logic         s_tready,
    output logic [W-1:0] ma_tdata,
    output logic         ma_tvalid,
    output logic         ma_tlast,
    input  logic         ma_tready,
    output logic [W-1:0] mb_tdata,
    output logic         mb_tvalid,
    output logic         mb_tlast,
    input  logic         mb_tready
);
    /* verilator lint_off UNUSEDPARAM */  // published for testbenches and the cycle model
    localparam int LATENCY = 0;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (W < 1) $fatal(1, "hwgen_stream_bcast: W=%0d must be >= 1", W);
    end

    logic taken_a, taken_b;  // this output has taken the current element already

    assign ma_tdata  = s_tdata;
    assign ma_tlast  = s_tlast;
    assign ma_tvalid = s_tvalid && !taken_a;
    assign mb_tdata  = s_tdata;
    assign mb_tlast  = s_tlast;
    assign mb_tvalid = s_tvalid && !taken_b;
    assign s_tready  = (taken_a || ma_tready) && (taken_b || mb_tready);

    always_ff @(posedge clk) begin
        if (rst || (s_tvalid && s_tready)) begin
            taken_a <= 1'b0;
            taken_b <= 1'b0;
        end else begin
            if (ma_tvalid && ma_tready) taken_a <= 1'b1;
            if (mb_tvalid && mb_tready) taken_b <= 1'b1;
        end
    end
endmodule
