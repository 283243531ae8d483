// hwgen_axis: the AXI4-Stream face of a generated hwgen_top; hwgen_axis_top.sv binds the two.
//
// Promises: no register of its own (LATENCY = 0), so hwgen_top's latency and throughput are
// unchanged. It is combinational: the wrapper clocks hwgen_top from aclk. aresetn (active low,
// synchronous to aclk) drives hwgen_top's rst = !aresetn; while aresetn is low every tvalid and
// tready this core drives is low on both sides, so no transfer happens during reset.
//
// Layouts (every tdata is a byte multiple; no tkeep: every transfer carries a whole word):
//   s_axis_tdata [XB_W-1:0]        hwgen_top's s_tdata in [X_W-1:0]; bits above are ignored.
//   m_axis_tdata [YB_W-1:0]        hwgen_top's m_tdata in [Y_W-1:0]; with CLASS = 1 the class
//                                  index m_tclass in [C_LSB+C_W-1:C_LSB], C_LSB = Y_W rounded
//                                  up to a byte multiple; every other bit is 0.
//   s_axis_state_tdata [SB_W-1:0]  (STATE = 1) s_state_tdata in [S_W-1:0]; bits above ignored.
// tlast passes through unchanged on the data streams; the state stream has none (one word per
// sequence). With STATE = 0 the s_axis_state_* inputs are not read and its tready stays 0.
module hwgen_axis #(
    parameter int X_W   = 5,   // hwgen_top's s_tdata bits
    parameter int XB_W  = 8,   // s_axis_tdata bits: X_W rounded up to a byte multiple
    parameter int Y_W   = 12,  // hwgen_top's m_tdata bits
    parameter int C_W   = 1,   // hwgen_top's m_tclass bits
    parameter bit CLASS = 1'b0,  // pack m_tclass into m_axis_tdata (a design with a head)
    parameter int C_LSB = 16,  // its first bit: Y_W rounded up to a byte multiple
    parameter int YB_W  = 16,  // m_axis_tdata bits
    parameter bit STATE = 1'b0,  // the design has an initial-state stream
    parameter int S_W   = 1,   // hwgen_top's s_state_tdata bits
    parameter int SB_W  = 8    // s_axis_state_tdata bits
) (
    input  logic            aresetn,
    /* verilator lint_off UNUSEDSIGNAL */  // the bits above X_W (S_W) are byte padding
    input  logic [XB_W-1:0] s_axis_tdata,
    input  logic [SB_W-1:0] s_axis_state_tdata,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic            s_axis_tvalid,
    input  logic            s_axis_tlast,
    output logic            s_axis_tready,
    /* verilator lint_off UNUSEDSIGNAL */  // not read without a state stream (STATE = 0)
    input  logic            s_axis_state_tvalid,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic            s_axis_state_tready,
    output logic [YB_W-1:0] m_axis_tdata,
    output logic            m_axis_tvalid,
    output logic            m_axis_tlast,
    input  logic            m_axis_tready,
    // the generated hwgen_top's ports
    output logic            rst,
    output logic [X_W-1:0]  s_tdata,
    output logic            s_tvalid,
    output logic            s_tlast,
    input  logic            s_tready,
    output logic [S_W-1:0]  s_state_tdata,
    output logic            s_state_tvalid,
    /* verilator lint_off UNUSEDSIGNAL */  // not read without a state stream (STATE = 0)
    input  logic            s_state_tready,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [Y_W-1:0]  m_tdata,
    /* verilator lint_off UNUSEDSIGNAL */  // not packed without a head (CLASS = 0)
    input  logic [C_W-1:0]  m_tclass,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic            m_tvalid,
    input  logic            m_tlast,
    output logic            m_tready
);
    /* verilator lint_off UNUSEDPARAM */  // published for testbenches and the cycle model
    localparam int LATENCY = 0;
    /* verilator lint_on UNUSEDPARAM */
    localparam int Y_BYTES_W = (Y_W + 7) / 8 * 8;

    initial begin
        if (X_W < 1 || XB_W != (X_W + 7) / 8 * 8)
            $fatal(1, "hwgen_axis: XB_W=%0d is not X_W=%0d rounded up to bytes", XB_W, X_W);
        if (Y_W < 1 || C_W < 1 || C_LSB != Y_BYTES_W)
            $fatal(1, "hwgen_axis: C_LSB=%0d is not Y_W=%0d rounded up to bytes", C_LSB, Y_W);
        if (YB_W != (CLASS ? C_LSB + (C_W + 7) / 8 * 8 : Y_BYTES_W))
            $fatal(1, "hwgen_axis: YB_W=%0d does not hold Y_W=%0d (and C_W=%0d if CLASS=%0d)",
                   YB_W, Y_W, C_W, CLASS);
        if (S_W < 1 || SB_W != (S_W + 7) / 8 * 8)
            $fatal(1, "hwgen_axis: SB_W=%0d is not S_W=%0d rounded up to bytes", SB_W, S_W);
    end

    assign rst            = !aresetn;
    assign s_tdata        = s_axis_tdata[X_W-1:0];
    assign s_tlast        = s_axis_tlast;
    assign s_tvalid       = aresetn && s_axis_tvalid;
    assign s_axis_tready  = aresetn && s_tready;
    assign m_axis_tvalid  = aresetn && m_tvalid;
    assign m_axis_tlast   = m_tlast;
    assign m_tready       = aresetn && m_axis_tready;
    assign s_state_tdata  = s_axis_state_tdata[S_W-1:0];

    generate
        if (STATE) begin : g_state
            assign s_state_tvalid      = aresetn && s_axis_state_tvalid;
            assign s_axis_state_tready = aresetn && s_state_tready;
        end else begin : g_no_state
            assign s_state_tvalid      = 1'b0;
            assign s_axis_state_tready = 1'b0;
        end
        if (CLASS) begin : g_class
            always_comb begin
                m_axis_tdata = '0;
                m_axis_tdata[Y_W-1:0] = m_tdata;
                m_axis_tdata[C_LSB +: C_W] = m_tclass;
            end
        end else begin : g_scores
            always_comb begin
                m_axis_tdata = '0;
                m_axis_tdata[Y_W-1:0] = m_tdata;
            end
        end
    endgenerate
endmodule
