-- wrk script: one signing request per call, a batch of one 1 MiB file, random names.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"batch":{"files":[{"name":"photo.jpg","size":1048576,"content_type":"image/jpeg"}],"naming":"random","folder":"uploads/bench"}}'
