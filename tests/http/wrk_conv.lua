-- wrk_conv.lua — POST /conv: the 256x256 RGB sample PNG, a 3x3 preset (sobel_x).
--   wrk -t2 -c32 -d10s -s tests/http/wrk_conv.lua http://127.0.0.1:8080/conv
package.path = "tests/http/?.lua;" .. package.path
local C = require("wrk_common")
C.setup("conv_256x256_sobel3x3",
  '{"image":"' .. C.base64(C.read("web/sample.png")) .. '","kernel":"sobel_x"}')
