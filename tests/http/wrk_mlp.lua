-- wrk_mlp.lua — POST /mlp: 64 inputs, 2 hidden layers of 32 (tanh), 10 outputs, seeded weights.
--   wrk -t2 -c32 -d10s -s tests/http/wrk_mlp.lua http://127.0.0.1:8080/mlp
package.path = "tests/http/?.lua;" .. package.path
local C = require("wrk_common")
local x = {}
for i = 1, 64 do x[i] = string.format("%.3f", math.sin(i)) end
C.setup("mlp_64_32x2_10",
  '{"input":[' .. table.concat(x, ",") .. '],"hidden_layers":2,"hidden_size":32,' ..
  '"activation":"tanh","output_size":10,"seed":1}')
