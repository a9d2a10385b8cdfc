# Reads a LeakSanitizer report and prints the leak records with a frame in deepgen's addon
# (deepgen.node, or a source file of native/ where the frame is symbolized); exits 1 when
# there is one. Node and V8 keep some heap pages and compiled
# code until exit, which LeakSanitizer reports too: those records name no deepgen frame.
/^(Direct|Indirect) leak/ { record = $0; inside = 1; ours = 0; next }
inside && /^$/ { if (ours) { print record; found = 1 } inside = 0; next }
inside { record = record "\n" $0; if ($0 ~ /deepgen\.node|\/native\/(addon|kernels|common)\//) ours = 1 }
END { if (inside && ours) { print record; found = 1 } exit found ? 1 : 0 }
