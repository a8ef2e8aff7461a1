"""The coverage feature: when each camera was there and recording, and what that
means for each shop zone, kept as evidence for the video-surveillance authorisation
request (Cerfa 13806) and the register the law asks for (CSI L252-5).

``hub.coverage.model`` holds the contracts the log, the report, the register and the
HTTP side share; the modules beside it implement them.
"""
