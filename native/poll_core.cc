#include "poll_core.h"

#include <unistd.h>

namespace tunl {

PollCore::PollCore(AddonData* data, int fd) : data_(data), fd_(fd) {
  data_->poll_fds++;
}

int PollCore::Init() {
  int r = uv_poll_init(data_->loop, &poll_, fd_);
  if (r != 0) return r;
  poll_.data = this;
  initialized_ = true;
  data_->live.insert(this);
  return 0;
}

void PollCore::Watch(int events) {
  if (closed_ || events == watching_) return;
  watching_ = events;
  if (events == 0) uv_poll_stop(&poll_);
  else uv_poll_start(&poll_, events, PollCallback);
}

void PollCore::PollCallback(uv_poll_t* handle, int status, int events) {
  PollCore* self = static_cast<PollCore*>(handle->data);
  if (self->closed_) return;
  self->OnEvents(status, events);
}

void PollCore::Close() {
  if (closed_) return;
  closed_ = true;
  if (initialized_) uv_poll_stop(&poll_);  // removes the fd from epoll before it is closed
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
    data_->poll_fds--;
  }
  if (initialized_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), ClosedCallback);
  } else {
    Detach();
    delete this;
  }
}

void PollCore::ClosedCallback(uv_handle_t* handle) {
  PollCore* self = static_cast<PollCore*>(handle->data);
  AddonData* data = self->data_;
  data->live.erase(self);
  self->Detach();
  delete self;
  if (data->tearing_down && data->live.empty() && data->cleanup_handle != nullptr) {
    napi_async_cleanup_hook_handle h = data->cleanup_handle;
    data->cleanup_handle = nullptr;
    napi_remove_async_cleanup_hook(h);
  }
}

void PollCore::CloseAll(AddonData* data) {
  std::vector<PollCore*> cores(data->live.begin(), data->live.end());
  for (PollCore* core : cores) core->Close();
}

}  // namespace tunl
