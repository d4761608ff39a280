"""compiler: ODERNN architectures to device graphs.

Coming (issue 4): specs of RNNs as n-stage Runge-Kutta / t-th order multistep ODE
integrators (vanilla, GRU-like, LSTM-like, URNN-like), an IR of linear maps and state
buffers, passes for stability analysis, symmetry-aware training (syre), tiling and placement,
lowering to ``hwsim.DeviceGraph`` and a compile report.
"""
