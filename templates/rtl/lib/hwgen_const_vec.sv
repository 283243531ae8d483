// hwgen_const_vec: N words of W bits, read from the data file FILE, as one constant vector (word
// k, the file's line k, at data[k*W +: W]). FILE is $readmemh text: one word per line, in hex,
// two's complement; hwgen writes it with exactly N lines. No clock, no logic: once elaborated the
// words are constants (Yosys: the memory is marked mem2reg, so its words become constant wires
// before any other pass and the logic reading them is optimized as if they were a parameter;
// a simulator loads the file at time 0). A generated design names FILE "mem/<name>.hex",
// relative to the folder a tool runs in (see hwgen_mvu).
module hwgen_const_vec #(
    parameter int N    = 1,
    parameter int W    = 1,
    parameter     FILE = ""
) (
    output logic [N*W-1:0] data
);
    initial begin
        if (N < 1 || W < 1) $fatal(1, "hwgen_const_vec: N=%0d and W=%0d must be >= 1", N, W);
    end

    // FILE = "" (the default, which tools elaborate on reading the source) gives zeros; the
    // cores instantiate hwgen_const_vec only with a file.
    if (FILE == "") begin : g_none
        assign data = '0;
    end else begin : g_file
        (* mem2reg *) logic [W-1:0] words [0:N-1];
        initial $readmemh(FILE, words);
        for (genvar k = 0; k < N; k++) begin : g_word
            assign data[k*W +: W] = words[k];
        end
    end
endmodule
