// The shared harness (Portal.Benchmarks/Harness): the portal launcher, Chromium, WebRTC viewer, sinks, polling.
global using Portal.Benchmarks.Harness;
