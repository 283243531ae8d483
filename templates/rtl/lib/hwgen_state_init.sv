// hwgen_state_init: starts one direction's sequences from given initial states instead of zero.
//
// It sits between the engine's input stream (s_*) and hwgen_lstm_ctrl (c_*, same data and tlast)
// and takes one state transfer (st_*) per sequence, together with the sequence's first step: that
// step is held back until st_tvalid, and st_tready is high only in the cycle the step transfers.
// On that step the h matrix-vector unit gets st_h (it latches its input on the transfer) instead
// of the controller's h, which is zero between sequences; until the next step, the cell gets c0,
// the st_c registered on the transfer, instead of the controller's c (also zero then). A part
// without an initial state is tied to zero by the engine. A reverse direction's first step is the
// first one it receives, so the same core serves both directions.
module hwgen_state_init #(
    parameter int HW = 8,  // bits of h (H codes)
    parameter int CW = 8   // bits of c (H codes; 1 for an RNN, whose engine ties it off)
) (
    input  logic          clk,
    input  logic          rst,
    // the engine's input stream: valid and ready of its steps
    input  logic          s_tvalid,
    input  logic          s_tlast,
    output logic          s_tready,
    // the controller's side of the same stream
    output logic          c_tvalid,
    input  logic          c_tready,
    // one initial state per sequence
    input  logic [HW-1:0] st_h,
    input  logic [CW-1:0] st_c,
    input  logic          st_tvalid,
    output logic          st_tready,
    // h into the h matrix-vector unit, c into the cell
    input  logic [HW-1:0] h_ctrl,
    output logic [HW-1:0] h_mv,
    input  logic [CW-1:0] c_ctrl,
    output logic [CW-1:0] c_cell
);
    logic          first_q;  // the next step starts a sequence
    logic          init_q;   // the step in flight started a sequence: the cell reads c0_q
    logic [CW-1:0] c0_q;

    assign c_tvalid  = s_tvalid && (!first_q || st_tvalid);
    assign s_tready  = c_tready && (!first_q || st_tvalid);
    assign st_tready = first_q && s_tvalid && c_tready;
    assign h_mv      = first_q ? st_h : h_ctrl;
    assign c_cell    = init_q ? c0_q : c_ctrl;

    always_ff @(posedge clk) begin
        if (rst) begin
            first_q <= 1'b1;
            init_q  <= 1'b0;
            c0_q    <= '0;
        end else if (s_tvalid && s_tready) begin
            first_q <= s_tlast;
            init_q  <= first_q;
            if (first_q) c0_q <= st_c;
        end
    end
endmodule
