{
  "targets": [
    {
      "target_name": "tun_lifecycle",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/netlink.cc",
        "native/rtnl.cc",
        "native/tun.cc",
        "native/ops.cc",
        "native/poll_core.cc",
        "native/queue.cc",
        "native/read_slab.cc",
        "native/monitor.cc",
        "native/netns.cc",
        "native/handoff.cc",
        "native/offload_probe.cc",
        "native/offload/vnet_hdr.cc",
        "native/offload/checksum.cc",
        "native/offload/split.cc",
        "native/offload/coalesce.cc",
        "native/offload/offload_js.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"]
    }
  ]
}
