// A promise-returning AsyncWorker: `work` runs on a threadpool thread (the
// kernel conversation), `result` builds the resolved value on the loop thread.
// A failure recorded in the SysError rejects with a TunSystemError.
#pragma once

#include <napi.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>

#include <functional>
#include <memory>

#include "addon_data.h"
#include "errors.h"
#include "js_call.h"
#include "netlink.h"

namespace tunl {

class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<void(NlSocket* nl, SysError* err)>;
  using Result = std::function<Napi::Value(Napi::Env env)>;

  // With a pool, work gets a netlink socket from it; without, nl is null.
  // abandon runs instead of result when JS can no longer run (a terminating
  // worker): it must release whatever the work acquired.
  using Abandon = std::function<void()>;
  // annotate adds detail to the rejection (e.g. which step failed).
  using Annotate = std::function<void(Napi::Env env, Napi::Value error)>;
  static Napi::Promise Start(Napi::Env env, const char* name, std::shared_ptr<NlPool> pool, int ifindex, Work work,
                             Result result = nullptr, Abandon abandon = nullptr, Annotate annotate = nullptr) {
    Task* task = new Task(env, name, std::move(pool), ifindex, std::move(work), std::move(result));
    task->abandon_ = std::move(abandon);
    task->annotate_ = std::move(annotate);
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    if (pool_) {
      PooledSocket nl(pool_.get(), &err_);
      if (nl) {
        work_(nl.operator->(), &err_);
        // Name the interface in the error when the kernel still knows it,
        // asking the socket's own namespace (the ifindex means nothing elsewhere).
        if (err_.failed() && err_.ifname.empty() && ifindex_ > 0) {
          ifreq ifr{};
          ifr.ifr_ifindex = ifindex_;
          if (ioctl(nl->fd(), SIOCGIFNAME, &ifr) == 0) err_.ifname = std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
        }
      }
    } else {
      work_(nullptr, &err_);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!CanCallJs(env)) {
      if (abandon_) abandon_();
      return;
    }
    Napi::HandleScope scope(env);
    if (err_.failed()) {
      Napi::Value error = MakeError(env, err_);
      if (annotate_) annotate_(env, error);
      deferred_.Reject(error);
      return;
    }
    deferred_.Resolve(result_ ? result_(env) : env.Undefined());
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Task(Napi::Env env, const char* name, std::shared_ptr<NlPool> pool, int ifindex, Work work, Result result)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        pool_(std::move(pool)),
        ifindex_(ifindex),
        work_(std::move(work)),
        result_(std::move(result)) {}

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<NlPool> pool_;
  int ifindex_;
  Work work_;
  Result result_;
  Abandon abandon_;
  Annotate annotate_;
  SysError err_;
};

}  // namespace tunl
