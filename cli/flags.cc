#include "cli/flags.h"

#include <unistd.h>

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/config_proto.h"
#include "common/consistency.h"
#include "common/file_util.h"
#include "coordinator/checkpoint_rounds.h"
#include "common/lr_schedule.h"
#include "common/model_spec.h"
#include "common/part_files.h"
#include "common/rpc_options.h"
#include "common/rpc_util.h"

// ---- data -----------------------------------------------------------------
ABSL_FLAG(std::string, train, "",
          "Training interactions (NCF .rating, u.data, ratings.dat, ratings.csv, delimited, .gz). "
          "Empty: psrec's synthetic data set.");
ABSL_FLAG(std::string, test, "", "Held-out ratings for --task=rating (same formats as --train).");
ABSL_FLAG(std::string, test_negatives, "",
          "NCF test.negative file for --task=ranking: '(user,item)<TAB>neg1<TAB>...' per line.");
ABSL_FLAG(std::string, format, "auto",
          "Input format: auto, tsv, csv, dat, ncf, delimited. export: output format, npy "
          "(auto means npy).");
ABSL_FLAG(std::string, delimiter, "", "Column delimiter for --format=delimited (default: detect).");
ABSL_FLAG(int, header, -1, "1: first line is a header, 0: no header, -1: detect.");
ABSL_FLAG(int, user_col, -1, "0-based user column (default: by header name, else 0).");
ABSL_FLAG(int, item_col, -1, "0-based item column (default: by header name, else 1).");
ABSL_FLAG(int, rating_col, -1, "0-based rating column (default: by header name, else 2).");
ABSL_FLAG(int, timestamp_col, -1, "0-based timestamp column (default: by header name, else 3).");

// ---- model and optimisation ------------------------------------------------
ABSL_FLAG(std::string, model, "gmf",
          "Model. Ranking (implicit feedback): gmf, mlp, neumf (He et al. 2017). Rating: mf "
          "(biased MF), mf_mlp (biased MF + an MLP branch).");
ABSL_FLAG(std::string, task, "", "ranking or rating (default: the model's task).");
ABSL_FLAG(uint32_t, dim, 0, "Embedding size (0: the model's default).");
ABSL_FLAG(uint32_t, epochs, 0, "Passes over the training data (0: the model's default).");
ABSL_FLAG(uint32_t, batch_size, 0,
          "Examples per mini-batch, sampled negatives included (0: the model's default).");
ABSL_FLAG(double, lr, 0, "Learning rate (0: the model's default).");
ABSL_FLAG(std::string, optimizer, "", "sgd, adagrad or adam (default: the model's).");
ABSL_FLAG(double, l2, -1, "L2 on touched embedding rows (-1: the model's default).");
ABSL_FLAG(double, init_std, 0, "Std of the normal init of embeddings (0: the model's default).");
ABSL_FLAG(std::string, init, "normal",
          "Embedding init: normal or uniform, both with std --init_std (uniform: +-std*sqrt(3)).");
ABSL_FLAG(std::string, layers, "",
          "MLP tower hidden widths, e.g. 64,32,16 (mlp, neumf, mf_mlp; empty: the model's "
          "default). The tower's input is the user's and the item's mlp embeddings side by side.");
ABSL_FLAG(uint32_t, mlp_dim, 0,
          "MLP embedding size per user/item (0: the model's default, or the first layer / 2).");
ABSL_FLAG(std::string, activation, "relu", "Tower activation: relu, tanh, sigmoid or none.");
ABSL_FLAG(double, dropout, 0, "Dropout rate on the tower's hidden outputs while training.");
ABSL_FLAG(std::string, loss, "",
          "logistic (ranking, default), bpr (ranking, pairwise: positive vs sampled negative) or "
          "squared (rating, default).");
ABSL_FLAG(int, pretrain_epochs, -1,
          "neumf: the first N epochs train the GMF and MLP branches each on its own (He et al.'s "
          "pre-training, in one run), then together (-1: the model's default; 0 with "
          "--init_gmf/--init_mlp).");
ABSL_FLAG(std::string, init_gmf, "",
          "train --model=neumf: start the GMF branch (factors and head) from a --model=gmf "
          "directory written by --model_out (He et al.'s pre-training from separate runs; the "
          "fused model is then fine-tuned, --pretrain_epochs defaults to 0).");
ABSL_FLAG(std::string, init_mlp, "",
          "train --model=neumf: start the MLP branch (factors, tower and head) from a --model=mlp "
          "directory written by --model_out.");
ABSL_FLAG(double, fusion_alpha, -1,
          "neumf: weight of the GMF head in the fused score, the MLP head gets 1 - this "
          "(-1: the model's default).");
ABSL_FLAG(int, average_epochs, -1,
          "The model is the mean of the parameters at the ends of the last N epochs (tail "
          "averaging, Polyak/SWA; psrec train; 0: the last epoch's parameters; -1: the model's "
          "default: neumf 8, mf_mlp 5, others 0, and 0 with --validation=auto).");
ABSL_FLAG(double, dense_l2, -1,
          "L2 on the dense tensors (tower and output layers; -1: the model's default).");
ABSL_FLAG(double, dense_lr_scale, 1, "The dense tensors learn at lr x this.");
ABSL_FLAG(std::string, implicit_feedback, "",
          "true or false: rating models (mf, mf_mlp) add SVD++'s implicit feedback to the user "
          "factors, |N(u)|^-1/2 x the sum of an item table over the items the user rated in "
          "training (empty: the model's default, on for mf_mlp).");
ABSL_FLAG(double, implicit_l2, -1,
          "L2 on the implicit-feedback table y (-1: the model's default).");
ABSL_FLAG(double, recency_weight, -1,
          "Recency weighting: each user's latest training interaction counts 1 + this, the extra "
          "halving every --recency_halflife interactions further back (by timestamp; "
          "interactions with one timestamp weigh the same, so data without timestamps is "
          "unweighted). Helps when the next interaction is what is predicted (the NCF "
          "leave-one-out protocol); 0: off (for random hold-outs). -1: the model's default "
          "(gmf, mlp, neumf 4; mf, mf_mlp 0).");
ABSL_FLAG(double, recency_halflife, 0,
          "Recency weighting: interactions over which the extra weight halves (0: the model's "
          "default, 7).");
ABSL_FLAG(uint32_t, negatives, 4, "Sampled negatives per positive (ranking).");
ABSL_FLAG(uint64_t, seed, 42, "Seed of initialisation, sampling and shuffling.");
ABSL_FLAG(uint32_t, data_shards, 0,
          "Data shards leased to workers per epoch (0: 2 x workers). A --train directory of Spark "
          "part files has one data shard per part file instead.");

// ---- learning-rate schedule, validation, early stopping ----------------------
ABSL_FLAG(std::string, lr_schedule, "constant",
          "Learning-rate schedule: constant, step (x --lr_decay_rate every --lr_decay_every "
          "epochs) or cosine (to --lr_min_ratio x --lr at the end of the last epoch).");
ABSL_FLAG(uint32_t, lr_decay_every, 10, "step: epochs between learning-rate decays.");
ABSL_FLAG(double, lr_decay_rate, 0.5, "step: learning-rate multiplier per decay, in (0, 1].");
ABSL_FLAG(double, lr_min_ratio, 0.0,
          "cosine: learning rate at the end of the last epoch, as a fraction of --lr.");
ABSL_FLAG(double, warmup_epochs, 0,
          "Linear learning-rate warm-up from 0 over this many epochs (may be fractional; "
          "combines with any --lr_schedule).");
ABSL_FLAG(std::string, validation, "none",
          "none, or auto: hold out a validation set from --train (ranking: each user's latest "
          "interaction with 99 sampled negatives; rating: --validation_fraction), evaluate it "
          "after every epoch and keep the best epoch.");
ABSL_FLAG(double, validation_fraction, 0.05,
          "rating with --validation=auto: share of training interactions held out.");
ABSL_FLAG(uint32_t, early_stopping, 0,
          "Stop after this many epochs without validation improvement (HR@10 for ranking, RMSE "
          "for rating); 0: off. Needs --validation=auto.");

// ---- consistency -------------------------------------------------------------
ABSL_FLAG(std::string, consistency, "asp",
          "Consistency model (Li et al. 2014, 4.2), enforced by the coordinator; a clock is one "
          "mini-batch per worker. asp (default): workers never wait. ssp: the fastest worker runs "
          "at most --staleness clocks ahead of the slowest. bsp: every worker waits for every "
          "other at each clock, and a fixed --seed gives the same result every run.");
ABSL_FLAG(uint32_t, staleness, 3,
          "--consistency=ssp: clocks the fastest worker may run ahead of the slowest (0 is bsp's "
          "barrier without its ordering).");

ABSL_FLAG(uint64_t, sync_every, 0,
          "--model=mf --optimizer=sgd through servers: ratings a worker trains on its own "
          "copies of their rows before it pushes the rows' changes and pulls them again "
          "(windows end at data-shard ends); 0 (default): pull and push every batch. Much "
          "faster (README: Windowed MF); other workers' updates arrive a window late.");

// ---- cluster ---------------------------------------------------------------
ABSL_FLAG(uint32_t, servers, 2,
          "Parameter-server processes. train: 0 trains --model=mf in this one process, "
          "--workers threads updating the tables lock-free (no network; one process's memory).");
ABSL_FLAG(uint32_t, workers, 2, "Worker processes.");
ABSL_FLAG(std::string, coordinator, "", "host:port of the coordinator (server, worker).");
ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(std::string, advertise_host, "", "Address others dial to reach this server (default: --host).");
ABSL_FLAG(int, port, 0,
          "Port to listen on: the coordinator's and servers' gRPC services, a worker's health "
          "endpoint (0: the OS chooses; the port is logged).");
ABSL_FLAG(int, metrics_port, 0,
          "Port of the Prometheus metrics endpoint (GET /metrics on --host; coordinator, server, "
          "worker): 0: the OS chooses (logged, and shown by psrec status), -1: none.");
ABSL_FLAG(int, shard_index, -1,
          "server: the shard to hold, 0..--servers-1, e.g. a StatefulSet pod's ordinal (-1: the "
          "coordinator gives the next free one).");
ABSL_FLAG(int, worker_index, -1,
          "worker: the id to register under, e.g. an Indexed Job's JOB_COMPLETION_INDEX; a "
          "replacement with the id of a dead worker takes its leases over (-1: a new id).");
ABSL_FLAG(int, ready_fd, -1, "Internal: file descriptor to report the bound port on.");
ABSL_FLAG(double, linger_seconds, 3,
          "Standalone coordinator: how long it stays up after the run (telling servers and "
          "workers that the run is over) before it exits.");
ABSL_FLAG(double, lease_timeout_seconds, 30,
          "Coordinator: a worker silent this long loses its leases; its data shards go back to "
          "the pool.");
ABSL_FLAG(uint32_t, replicas, 1,
          "Copies of every parameter shard, on distinct servers: 1 = no replication (a dead "
          "server loses its shard), 2 = a backup per shard that acknowledges every push and is "
          "promoted when the primary dies (chain replication; needs --servers >= 2).");
ABSL_FLAG(double, server_timeout_seconds, 5,
          "Coordinator, --replicas=2: a server silent this long is declared dead and the backups "
          "of its shards are promoted.");
ABSL_FLAG(bool, gated, false, "Internal: epochs start when `psrec train` allows them.");
ABSL_FLAG(uint32_t, timeout_seconds, 60,
          "How long to wait for a peer (start-up, unreachable servers) before failing.");

// ---- security and limits (every role that speaks gRPC) -------------------------
ABSL_FLAG(std::string, tls_cert, "",
          "TLS: this process's certificate (PEM), signed by --tls_ca; it serves with it and "
          "presents it as a client. With --tls_key and --tls_ca, every connection is TLS and "
          "servers refuse clients without a certificate from --tls_ca. Empty: plaintext.");
ABSL_FLAG(std::string, tls_key, "", "TLS: the private key of --tls_cert (PEM).");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS: the CA certificate (PEM) that signed every psrec process's certificate; peers "
          "are verified against it.");
ABSL_FLAG(std::string, tls_server_name, "",
          "TLS: the name to check in servers' certificates instead of the host dialed (when "
          "certificates name a service, not every address).");
ABSL_FLAG(std::string, auth_token_file, "",
          "A file holding the cluster's shared token (whitespace trimmed; needs TLS). Every call "
          "carries it; servers refuse calls without it or with another one (UNAUTHENTICATED).");
ABSL_FLAG(int, max_message_bytes, psrec::kDefaultMaxMessageBytes,
          "Largest gRPC message sent or accepted; larger ones get RESOURCE_EXHAUSTED.");
ABSL_FLAG(uint32_t, max_keys_per_request, psrec::kDefaultMaxKeysPerRequest,
          "server: keys one pull or push may carry (more: RESOURCE_EXHAUSTED); clients split "
          "their requests below it (at most 8192 keys each).");
ABSL_FLAG(int, max_concurrent_requests, psrec::kDefaultMaxConcurrentRequests,
          "coordinator, server: requests served at once (gRPC ResourceQuota threads); a request "
          "finding all busy gets RESOURCE_EXHAUSTED. 0: no limit.");
// ---- durability ----------------------------------------------------------------
ABSL_FLAG(std::string, checkpoint_dir, "",
          "Checkpoints (README 'Failure and recovery'). train: default RUN_DIR/checkpoints. "
          "coordinator: its state and the servers' default; empty: checkpoints off. server: "
          "where this server writes its shard (empty: the coordinator's directory).");
ABSL_FLAG(std::string, checkpoint_every, "60s",
          "A checkpoint round every N batches (e.g. 500, all workers together), every N "
          "seconds (e.g. 30s), or off. A round waits for the leased data shards to finish.");
ABSL_FLAG(uint32_t, checkpoint_keep, 3, "Complete checkpoint rounds kept on disk (at least 1).");
ABSL_FLAG(std::string, resume, "",
          "train: continue the stopped run whose --run_dir is DIR from its last complete "
          "checkpoint round (same flags). coordinator: start from the newest complete round in "
          "this checkpoint directory.");
ABSL_FLAG(uint32_t, max_restarts, 3,
          "train: how often each server, worker or coordinator killed by a signal is restarted "
          "(same identity and flags) before the run stops.");

// ---- psrec health -------------------------------------------------------------
ABSL_FLAG(std::string, target, "", "health: HOST:PORT of the psrec process to probe.");
ABSL_FLAG(std::string, health_service, "",
          "health: the service to ask about (empty: the whole process, as Kubernetes does).");
ABSL_FLAG(double, probe_timeout_seconds, 2,
          "health, status: deadline of one health check (status: of every call).");
ABSL_FLAG(double, wait_seconds, 0,
          "health: keep probing until SERVING for up to this long (0: probe once).");

// ---- psrec status -------------------------------------------------------------
ABSL_FLAG(bool, json, false, "status: print one JSON object instead of text.");

// ---- outputs ---------------------------------------------------------------
ABSL_FLAG(std::string, metrics_json, "", "Write the run's metrics as one JSON object here.");
ABSL_FLAG(std::string, model_out, "",
          "Write the trained model into this directory (with --validation=auto: the best "
          "epoch's).");
ABSL_FLAG(std::string, model_dir, "", "A model directory written by --model_out (eval, recommend, export).");
ABSL_FLAG(std::string, run_dir, "", "Scratch directory (synthetic data). Default: a temp dir.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error or off.");
ABSL_FLAG(std::string, report, "",
          "train: write DIR/report.html, a self-contained page with SVG charts of the run (loss, "
          "metrics and throughput per epoch, rows per server), its configuration and results.");
ABSL_FLAG(std::string, progress, "auto",
          "train: progress within an epoch. auto: one line redrawn on a terminal, plain lines "
          "otherwise; line; plain; off.");
ABSL_FLAG(double, progress_seconds, 0,
          "train: seconds between progress updates (0: 0.5 on a terminal, 10 otherwise).");

// ---- psrec gen ---------------------------------------------------------------
ABSL_FLAG(std::string, out, "",
          "gen: directory to write the synthetic data set into; export: directory to write the "
          ".npy files into.");
ABSL_FLAG(bool, implicit, true, "gen: implicit feedback (NCF files) or explicit ratings.");
ABSL_FLAG(uint64_t, gen_users, 2000, "gen: number of users.");
ABSL_FLAG(uint64_t, gen_items, 1000, "gen: number of items.");
ABSL_FLAG(uint64_t, gen_per_user, 40, "gen: mean interactions per user.");
ABSL_FLAG(int32_t, gen_rank, 8, "gen: rank of the planted user/item factor model.");
ABSL_FLAG(double, gen_noise, 0.3,
          "gen: standard deviation of the noise added to explicit ratings (before rounding).");

// ---- psrec recommend ---------------------------------------------------------
ABSL_FLAG(std::string, user, "", "recommend: the user id to recommend items to.");
ABSL_FLAG(std::string, users, "",
          "recommend: a file of user ids, one per line; writes TSV "
          "user<TAB>rank<TAB>item<TAB>score[<TAB>title] with a header.");
ABSL_FLAG(uint32_t, k, 10, "recommend: how many items per user.");
ABSL_FLAG(std::string, exclude, "",
          "recommend: interactions (any --train format; --format, --delimiter, --header and "
          "--*_col apply) whose items are not recommended to their user again.");
ABSL_FLAG(std::string, items, "",
          "recommend: item titles to print beside the items: MovieLens u.item, movies.dat, "
          "movies.csv, or id<DELIM>title lines.");

namespace psrec {
namespace {

// TLS, token and limits: the same flags for every role.
absl::StatusOr<RpcOptions> RpcOptionsFromFlags() {
  RpcOptions o;
  RpcSecurityFiles files;
  files.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  files.tls_key = absl::GetFlag(FLAGS_tls_key);
  files.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  files.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  files.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  auto security = LoadRpcSecurity(files);
  if (!security.ok()) return security.status();
  o.security = std::move(*security);
  o.limits.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.limits.max_keys_per_request = absl::GetFlag(FLAGS_max_keys_per_request);
  o.limits.max_concurrent_requests = absl::GetFlag(FLAGS_max_concurrent_requests);
  if (auto s = ValidateRpcLimits(o.limits); !s.ok()) return s;
  return o;
}

// The learning-rate schedule, validation and early-stopping flags, checked.
absl::Status SetScheduleAndValidation(rpc::RunConfig* c) {
  const std::string schedule = absl::GetFlag(FLAGS_lr_schedule);
  if (auto kind = ParseLrScheduleKind(schedule); !kind.ok()) return kind.status();
  c->set_lr_schedule(schedule.empty() ? "constant" : schedule);
  c->set_lr_decay_every(absl::GetFlag(FLAGS_lr_decay_every));
  c->set_lr_decay_rate(static_cast<float>(absl::GetFlag(FLAGS_lr_decay_rate)));
  c->set_lr_min_ratio(static_cast<float>(absl::GetFlag(FLAGS_lr_min_ratio)));
  c->set_warmup_epochs(static_cast<float>(absl::GetFlag(FLAGS_warmup_epochs)));
  if (auto s = ValidateLrSchedule(LrScheduleFromConfig(*c)); !s.ok()) return s;

  const std::string validation = absl::GetFlag(FLAGS_validation);
  if (validation != "none" && validation != "auto") {
    return absl::InvalidArgumentError(
        absl::StrFormat("--validation=%s: valid: none, auto", validation));
  }
  c->set_validation(validation);
  const double fraction = absl::GetFlag(FLAGS_validation_fraction);
  if (!(fraction > 0 && fraction < 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--validation_fraction=%g: must be in (0, 1)", fraction));
  }
  c->set_validation_fraction(static_cast<float>(fraction));
  c->set_early_stopping(absl::GetFlag(FLAGS_early_stopping));
  c->set_replicas(absl::GetFlag(FLAGS_replicas));
  if (c->replicas() < 1 || c->replicas() > 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--replicas=%d: must be 1 (no replication) or 2 (a backup per shard)", c->replicas()));
  }
  if (c->early_stopping() > 0 && validation != "auto") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--early_stopping=%d needs --validation=auto (it stops on the validation metric)",
        c->early_stopping()));
  }
  return absl::OkStatus();
}

constexpr const char* kInputFormats[] = {"auto", "tsv", "csv", "dat", "ncf", "delimited"};

absl::Status CheckInputFormat(const std::string& format) {
  if (std::none_of(std::begin(kInputFormats), std::end(kInputFormats),
                   [&](const char* f) { return format == f; })) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--format=%s: valid: auto, tsv, csv, dat, ncf, delimited", format));
  }
  return absl::OkStatus();
}

// --average_epochs, checked against --epochs and --validation (which keeps
// the best epoch instead of a mean; the default then is 0).
absl::Status SetAveraging(const ModelDefaults& defaults, rpc::RunConfig* c) {
  const int average = absl::GetFlag(FLAGS_average_epochs);
  const bool validate = absl::GetFlag(FLAGS_validation) == "auto";
  if (average < 0) {
    c->set_average_epochs(validate ? 0 : std::min(defaults.average_epochs, c->epochs()));
    return absl::OkStatus();
  }
  if (static_cast<uint32_t>(average) > c->epochs()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--average_epochs=%d is more than --epochs=%d", average, c->epochs()));
  }
  if (average > 0 && validate) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--average_epochs=%d with --validation=auto: the model is either the best epoch's or "
        "a mean of the last epochs; drop one of the two flags",
        average));
  }
  c->set_average_epochs(static_cast<uint32_t>(average));
  return absl::OkStatus();
}

// A backup lives on another server than its primary.
absl::Status CheckReplicasFit(const rpc::RunConfig& config, uint32_t servers) {
  if (config.replicas() < 2 || servers >= 2) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "--replicas=%d needs --servers >= 2 (a backup lives on another server)", config.replicas()));
}

}  // namespace

absl::StatusOr<rpc::RunConfig> RunConfigFromFlags() {
  const std::string model = absl::GetFlag(FLAGS_model);
  auto defaults = DefaultsFor(model);
  if (!defaults.ok()) return defaults.status();
  rpc::RunConfig c;
  c.set_model(model);
  std::string task = absl::GetFlag(FLAGS_task);
  if (task.empty()) task = defaults->task;
  if (task != "ranking" && task != "rating") {
    return absl::InvalidArgumentError(
        absl::StrFormat("--task=%s: valid: ranking, rating", task));
  }
  if (task != defaults->task) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--model=%s trains for --task=%s; for %s use --model=%s", model, defaults->task, task,
        task == "ranking" ? "gmf" : "mf"));
  }
  c.set_task(task);
  std::string loss = absl::GetFlag(FLAGS_loss);
  if (loss.empty()) loss = task == "ranking" ? "logistic" : "squared";
  if ((task == "ranking") != (loss == "logistic" || loss == "bpr") ||
      (loss != "logistic" && loss != "bpr" && loss != "squared")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--loss=%s: for --task=%s use %s", loss, task,
        task == "ranking" ? "logistic or bpr" : "squared"));
  }
  c.set_loss(loss);
  auto pick = [](auto flag, auto fallback) { return flag ? flag : fallback; };
  c.set_dim(pick(absl::GetFlag(FLAGS_dim), defaults->dim));
  c.set_epochs(pick(absl::GetFlag(FLAGS_epochs), defaults->epochs));
  c.set_batch_size(pick(absl::GetFlag(FLAGS_batch_size), defaults->batch_size));
  c.set_lr(static_cast<float>(pick(absl::GetFlag(FLAGS_lr), double{defaults->lr})));
  std::string opt = absl::GetFlag(FLAGS_optimizer);
  c.set_optimizer(opt.empty() ? defaults->optimizer : opt);
  if (c.optimizer() != "sgd" && c.optimizer() != "adagrad" && c.optimizer() != "adam") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--optimizer=%s: unknown optimizer; valid: sgd, adagrad, adam", c.optimizer()));
  }
  const double l2 = absl::GetFlag(FLAGS_l2);
  c.set_l2(static_cast<float>(l2 < 0 ? defaults->l2 : l2));
  c.set_negatives(absl::GetFlag(FLAGS_negatives));
  if (task == "ranking" && c.negatives() == 0) {
    return absl::InvalidArgumentError(
        "--negatives=0: ranking with logistic loss needs at least one sampled negative");
  }
  c.set_seed(absl::GetFlag(FLAGS_seed));
  if (c.lr() <= 0) return absl::InvalidArgumentError("--lr must be positive");
  if (c.epochs() > 100000) return absl::InvalidArgumentError("--epochs is implausibly large");

  ModelOptions mo;
  mo.model = model;
  mo.dim = c.dim();
  mo.init_std = static_cast<float>(pick(absl::GetFlag(FLAGS_init_std), double{defaults->init_std}));
  mo.l2 = c.l2();
  mo.init = absl::GetFlag(FLAGS_init);
  if (mo.init != "normal" && mo.init != "uniform") {
    return absl::InvalidArgumentError(
        absl::StrFormat("--init=%s: valid: normal, uniform", mo.init));
  }
  auto layers = ParseLayers(absl::GetFlag(FLAGS_layers));
  if (!layers.ok()) return layers.status();
  mo.layers = layers->empty() ? defaults->layers : *layers;
  mo.mlp_dim = pick(absl::GetFlag(FLAGS_mlp_dim), layers->empty() ? defaults->mlp_dim : 0u);
  mo.activation = absl::GetFlag(FLAGS_activation);
  mo.dropout = static_cast<float>(absl::GetFlag(FLAGS_dropout));
  const double dense_l2 = absl::GetFlag(FLAGS_dense_l2);
  mo.dense_l2 = static_cast<float>(dense_l2 < 0 ? defaults->dense_l2 : dense_l2);
  mo.dense_lr_scale = static_cast<float>(absl::GetFlag(FLAGS_dense_lr_scale));
  const double alpha = absl::GetFlag(FLAGS_fusion_alpha);
  mo.alpha = static_cast<float>(alpha < 0 ? defaults->alpha : alpha);
  if (!(mo.dense_lr_scale > 0)) return absl::InvalidArgumentError("--dense_lr_scale must be positive");
  const std::string implicit_flag = absl::GetFlag(FLAGS_implicit_feedback);
  mo.implicit_feedback = defaults->implicit_feedback;
  if (!implicit_flag.empty() && !absl::SimpleAtob(implicit_flag, &mo.implicit_feedback)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--implicit_feedback=%s: valid: true, false", implicit_flag));
  }
  const double implicit_l2 = absl::GetFlag(FLAGS_implicit_l2);
  mo.implicit_l2 = static_cast<float>(implicit_l2 < 0 ? defaults->implicit_l2 : implicit_l2);
  auto spec = SpecFor(mo);
  if (!spec.ok()) return spec.status();
  RecencyOptions recency;
  const double recency_weight = absl::GetFlag(FLAGS_recency_weight);
  const double recency_halflife = absl::GetFlag(FLAGS_recency_halflife);
  recency.weight =
      static_cast<float>(recency_weight == -1 ? defaults->recency_weight : recency_weight);
  recency.halflife =
      static_cast<float>(recency_halflife == 0 ? defaults->recency_halflife : recency_halflife);
  if (auto s = ValidateRecency(recency); !s.ok()) return s;
  c.set_recency_weight(recency.weight);
  // Stored only with a weight: a run without one has the same configuration
  // as before the flag existed (checkpoints of such runs still resume).
  if (recency.enabled()) c.set_recency_halflife(recency.halflife);
  c.set_mlp_dim(spec->mlp_dim);
  for (uint32_t w : spec->layers) c.add_layers(w);
  c.set_activation(spec->activation);
  c.set_dropout(spec->dropout);
  if (spec->heads() == 2) c.set_fusion_alpha(spec->alpha);
  const int pretrain = absl::GetFlag(FLAGS_pretrain_epochs);
  // Branches started from trained models are fine-tuned together, as He et al.
  const bool init_from_models =
      !absl::GetFlag(FLAGS_init_gmf).empty() || !absl::GetFlag(FLAGS_init_mlp).empty();
  c.set_pretrain_epochs(pretrain >= 0      ? static_cast<uint32_t>(pretrain)
                        : init_from_models ? 0u
                                           : std::min(defaults->pretrain_epochs, c.epochs()));
  if (c.pretrain_epochs() > 0 && spec->heads() != 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--pretrain_epochs=%d: only --model=neumf has two branches to pre-train", pretrain));
  }
  if (auto s = SetAveraging(*defaults, &c); !s.ok()) return s;

  c.set_train_path(absl::GetFlag(FLAGS_train));
  const std::string format = absl::GetFlag(FLAGS_format);
  if (auto s = CheckInputFormat(format); !s.ok()) return s;
  c.set_format(format);
  c.set_delimiter(absl::GetFlag(FLAGS_delimiter));
  c.set_header(absl::GetFlag(FLAGS_header));
  c.set_user_col(absl::GetFlag(FLAGS_user_col));
  c.set_item_col(absl::GetFlag(FLAGS_item_col));
  c.set_rating_col(absl::GetFlag(FLAGS_rating_col));
  c.set_timestamp_col(absl::GetFlag(FLAGS_timestamp_col));
  const uint32_t workers = std::max<uint32_t>(1, absl::GetFlag(FLAGS_workers));
  c.set_data_shards(pick(absl::GetFlag(FLAGS_data_shards), 2 * workers));
  if (auto s = SetScheduleAndValidation(&c); !s.ok()) return s;
  // Spark part files are the data shards, read by the workers in parallel;
  // a validation split needs every user's interactions in one place, so it
  // reads them all as one file.
  if (!c.train_path().empty() && IsDirectory(c.train_path()) && c.validation() != "auto") {
    auto parts = ListPartFiles(c.train_path());
    if (!parts.ok()) return parts.status();
    c.set_part_file_shards(true);
    c.set_data_shards(static_cast<uint32_t>(parts->size()));
  }
  // N(u) needs all of a user's interactions in every process; part files
  // are read piecemeal by the workers, so there the default turns it off.
  if (c.part_file_shards() && spec->implicit_dim > 0) {
    if (!implicit_flag.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--implicit_feedback=%s: needs each user's training interactions in one place, but "
          "--train=%s is read as part files; pass one file, or add --validation=auto",
          implicit_flag, c.train_path()));
    }
    mo.implicit_feedback = false;
    spec = SpecFor(mo);
    if (!spec.ok()) return spec.status();
  }
  c.set_implicit_feedback(spec->implicit_dim > 0);
  for (const TableConfig& t : TablesFor(*spec, mo)) *c.add_tables() = ToProto(t);
  const std::string consistency = absl::GetFlag(FLAGS_consistency);
  if (auto parsed = ParseConsistency(consistency); !parsed.ok()) return parsed.status();
  c.set_consistency(consistency.empty() ? "asp" : consistency);
  c.set_staleness(absl::GetFlag(FLAGS_staleness));
  c.set_sync_every(absl::GetFlag(FLAGS_sync_every));
  if (auto s = CheckSyncEvery(c); !s.ok()) return s;
  // A replicated shard is served by its own service per copy, without the
  // bsp push buffer; the two are not combined yet.
  if (c.replicas() >= 2 && c.consistency() != "asp") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--replicas=%d with --consistency=%s: replication works with asp only (for now)",
        c.replicas(), c.consistency()));
  }
  return c;
}

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions o;
  o.coordinator = absl::GetFlag(FLAGS_coordinator);
  if (o.coordinator.empty()) {
    return absl::InvalidArgumentError("psrec server needs --coordinator=HOST:PORT");
  }
  o.host = absl::GetFlag(FLAGS_host);
  o.advertise_host = absl::GetFlag(FLAGS_advertise_host);
  o.port = absl::GetFlag(FLAGS_port);
  o.ready_fd = absl::GetFlag(FLAGS_ready_fd);
  o.shard_index = absl::GetFlag(FLAGS_shard_index);
  o.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  if (o.shard_index < -1) return absl::InvalidArgumentError("--shard_index must be 0 or more (or -1)");
  o.coordinator_timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds));
  auto rpc = RpcOptionsFromFlags();
  if (!rpc.ok()) return rpc.status();
  o.rpc = std::move(*rpc);
  o.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  return o;
}

absl::StatusOr<WorkerOptions> WorkerOptionsFromFlags() {
  WorkerOptions o;
  o.coordinator = absl::GetFlag(FLAGS_coordinator);
  if (o.coordinator.empty()) {
    return absl::InvalidArgumentError("psrec worker needs --coordinator=HOST:PORT");
  }
  o.retry_budget = absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds));
  o.shard_map_timeout = o.retry_budget;
  o.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  o.host = absl::GetFlag(FLAGS_host);
  o.port = absl::GetFlag(FLAGS_port);
  o.ready_fd = absl::GetFlag(FLAGS_ready_fd);
  o.worker_index = absl::GetFlag(FLAGS_worker_index);
  if (o.worker_index < -1) {
    return absl::InvalidArgumentError("--worker_index must be 0 or more (or -1)");
  }
  auto rpc = RpcOptionsFromFlags();
  if (!rpc.ok()) return rpc.status();
  o.rpc = std::move(*rpc);
  return o;
}

absl::StatusOr<HealthOptions> HealthOptionsFromFlags() {
  HealthOptions o;
  o.target = absl::GetFlag(FLAGS_target);
  if (o.target.empty()) return absl::InvalidArgumentError("psrec health needs --target=HOST:PORT");
  o.service = absl::GetFlag(FLAGS_health_service);
  const double timeout = absl::GetFlag(FLAGS_probe_timeout_seconds);
  if (!(timeout > 0)) {
    return absl::InvalidArgumentError("--probe_timeout_seconds must be positive");
  }
  o.probe_timeout = absl::Seconds(timeout);
  const double wait = absl::GetFlag(FLAGS_wait_seconds);
  if (!(wait >= 0)) return absl::InvalidArgumentError("--wait_seconds must be 0 or more");
  o.wait = absl::Seconds(wait);
  auto rpc = RpcOptionsFromFlags();
  if (!rpc.ok()) return rpc.status();
  o.rpc = std::move(*rpc);
  return o;
}

absl::StatusOr<StatusOptions> StatusOptionsFromFlags() {
  StatusOptions o;
  o.coordinator = absl::GetFlag(FLAGS_coordinator);
  if (o.coordinator.empty()) {
    return absl::InvalidArgumentError("psrec status needs --coordinator=HOST:PORT");
  }
  o.json = absl::GetFlag(FLAGS_json);
  const double timeout = absl::GetFlag(FLAGS_probe_timeout_seconds);
  if (!(timeout > 0)) {
    return absl::InvalidArgumentError("--probe_timeout_seconds must be positive");
  }
  o.timeout = absl::Seconds(timeout);
  auto rpc = RpcOptionsFromFlags();
  if (!rpc.ok()) return rpc.status();
  o.rpc = std::move(*rpc);
  return o;
}

absl::StatusOr<CoordinatorOptions> CoordinatorOptionsFromFlags() {
  CoordinatorOptions o;
  auto config = RunConfigFromFlags();
  if (!config.ok()) return config.status();
  if (config->train_path().empty()) {
    return absl::InvalidArgumentError(
        "psrec coordinator needs --train=FILE (psrec gen --out=DIR writes a synthetic one)");
  }
  o.config = std::move(*config);
  o.host = absl::GetFlag(FLAGS_host);
  o.port = absl::GetFlag(FLAGS_port);
  o.ready_fd = absl::GetFlag(FLAGS_ready_fd);
  o.expected_servers = absl::GetFlag(FLAGS_servers);
  o.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  if (o.expected_servers == 0) return absl::InvalidArgumentError("--servers must be at least 1");
  o.lease.epochs = o.config.epochs();
  o.lease.data_shards = o.config.data_shards();
  o.lease.gated = absl::GetFlag(FLAGS_gated);
  o.lease.workers = std::max<uint32_t>(1, absl::GetFlag(FLAGS_workers));
  const double lease_timeout = absl::GetFlag(FLAGS_lease_timeout_seconds);
  if (!(lease_timeout > 0)) {
    return absl::InvalidArgumentError("--lease_timeout_seconds must be positive");
  }
  o.lease.lease_timeout = absl::Seconds(lease_timeout);
  const double server_timeout = absl::GetFlag(FLAGS_server_timeout_seconds);
  if (!(server_timeout > 0)) {
    return absl::InvalidArgumentError("--server_timeout_seconds must be positive");
  }
  o.lease.server_timeout = absl::Seconds(server_timeout);
  if (auto st = CheckReplicasFit(o.config, o.expected_servers); !st.ok()) return st;
  o.exit_when_done = !o.lease.gated;
  if (o.config.early_stopping() > 0 && !o.lease.gated) {
    return absl::InvalidArgumentError(
        "--early_stopping: a standalone coordinator does not evaluate; use psrec train");
  }
  // Averaging needs the quiet points between epochs that only psrec train's
  // gate gives; a standalone run keeps the last epoch's parameters.
  if (!o.lease.gated && o.config.average_epochs() > 0) {
    if (absl::GetFlag(FLAGS_average_epochs) > 0) {
      return absl::InvalidArgumentError(
          "--average_epochs: a standalone coordinator does not average parameters; use psrec "
          "train");
    }
    o.config.set_average_epochs(0);
  }
  o.model_out = absl::GetFlag(FLAGS_model_out);
  const double linger = absl::GetFlag(FLAGS_linger_seconds);
  if (!(linger >= 0)) return absl::InvalidArgumentError("--linger_seconds must be 0 or more");
  o.linger = absl::Seconds(linger);
  auto rpc = RpcOptionsFromFlags();
  if (!rpc.ok()) return rpc.status();
  o.rpc = std::move(*rpc);
  o.checkpoint.dir = absl::GetFlag(FLAGS_checkpoint_dir);
  const std::string resume = absl::GetFlag(FLAGS_resume);
  if (!resume.empty()) {
    if (!o.checkpoint.dir.empty() && o.checkpoint.dir != resume) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--resume=%s and --checkpoint_dir=%s: the run resumes from and checkpoints into one "
          "directory", resume, o.checkpoint.dir));
    }
    o.checkpoint.dir = resume;
    o.checkpoint.resume = true;
  }
  if (auto s = ParseCheckpointEvery(absl::GetFlag(FLAGS_checkpoint_every), &o.checkpoint);
      !s.ok()) {
    return s;
  }
  o.checkpoint.keep = std::max<uint32_t>(1, absl::GetFlag(FLAGS_checkpoint_keep));
  o.checkpoint.drain_timeout = o.lease.lease_timeout * 4;
  return o;
}

absl::StatusOr<TrainOptions> TrainOptionsFromFlags() {
  TrainOptions o;
  auto config = RunConfigFromFlags();
  if (!config.ok()) return config.status();
  o.config = std::move(*config);
  o.servers = absl::GetFlag(FLAGS_servers);
  o.workers = absl::GetFlag(FLAGS_workers);
  // --servers=0: everything in this process (cli/train_in_process.h).
  if (o.servers > 64) {
    return absl::InvalidArgumentError(
        "--servers must be between 0 (train in this process) and 64");
  }
  if (o.workers == 0 || o.workers > 64) {
    return absl::InvalidArgumentError("--workers must be between 1 and 64");
  }
  o.test_path = absl::GetFlag(FLAGS_test);
  o.test_negatives_path = absl::GetFlag(FLAGS_test_negatives);
  o.metrics_json = absl::GetFlag(FLAGS_metrics_json);
  o.model_out = absl::GetFlag(FLAGS_model_out);
  o.run_dir = absl::GetFlag(FLAGS_run_dir);
  o.report_dir = absl::GetFlag(FLAGS_report);
  o.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  o.log_level = absl::GetFlag(FLAGS_log_level);
  o.startup_timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds));
  o.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  o.resume_dir = absl::GetFlag(FLAGS_resume);
  o.max_restarts = absl::GetFlag(FLAGS_max_restarts);
  o.init_gmf = absl::GetFlag(FLAGS_init_gmf);
  o.init_mlp = absl::GetFlag(FLAGS_init_mlp);
  if (!o.init_gmf.empty() || !o.init_mlp.empty()) {
    if (o.config.model() != "neumf") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--init_gmf/--init_mlp: only --model=neumf has GMF and MLP branches to initialise, not "
          "--model=%s",
          o.config.model()));
    }
    if (o.servers == 0) {
      return absl::InvalidArgumentError(
          "--init_gmf/--init_mlp: the saved models are loaded onto servers; --servers=0 trains "
          "in this process");
    }
  }
  CheckpointOptions checkpoint;  // checked here, applied by the coordinator
  if (auto s = ParseCheckpointEvery(absl::GetFlag(FLAGS_checkpoint_every), &checkpoint); !s.ok()) {
    return s;
  }
  o.checkpoints_off = absl::GetFlag(FLAGS_checkpoint_every) == "off";
  const bool asp = o.config.consistency() == "asp";
  if (o.servers == 0 && (!asp || o.config.replicas() > 1 || !o.resume_dir.empty())) {
    return absl::InvalidArgumentError(
        "--servers=0 trains in this process (HOGWILD!, asp): it takes no --consistency=ssp|bsp, "
        "--replicas or --resume");
  }
  if (o.servers == 0 && o.config.average_epochs() > 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--average_epochs=%d: the parameters are averaged on the servers; --servers=0 keeps the "
        "last epoch's",
        o.config.average_epochs()));
  }
  if (auto st = CheckReplicasFit(o.config, o.servers); !st.ok()) return st;
  // Rounds run only with asp and without replicas (README "Failure and
  // recovery"); a resume starts from one.
  o.checkpoint_rounds = !o.checkpoints_off && asp && o.config.replicas() < 2 && o.servers > 0;
  if (!o.resume_dir.empty() && !o.checkpoint_rounds) {
    return absl::InvalidArgumentError(
        "--resume continues from a checkpoint round, and with --checkpoint_every=off, "
        "--replicas=2 or --consistency=ssp|bsp no rounds are written");
  }
  if (!o.resume_dir.empty() && !FileExists(o.resume_dir)) {
    return absl::NotFoundError(absl::StrFormat(
        "--resume=%s: no such directory (give the --run_dir of the stopped run)", o.resume_dir));
  }
  const std::string progress = absl::GetFlag(FLAGS_progress);
  if (progress != "auto" && progress != "line" && progress != "plain" && progress != "off") {
    return absl::InvalidArgumentError(
        absl::StrFormat("--progress=%s: valid: auto, line, plain, off", progress));
  }
  o.progress = ChooseProgressStyle(progress, ::isatty(STDOUT_FILENO) == 1);
  const double progress_seconds = absl::GetFlag(FLAGS_progress_seconds);
  if (!(progress_seconds >= 0)) {
    return absl::InvalidArgumentError("--progress_seconds must be 0 or more");
  }
  o.progress_interval =
      progress_seconds > 0 ? absl::Seconds(progress_seconds)
      : o.progress == ProgressStyle::kRedrawnLine ? absl::Milliseconds(500)
                                                  : absl::Seconds(10);
  const bool synthetic = o.config.train_path().empty();
  if (synthetic && (!o.test_path.empty() || !o.test_negatives_path.empty())) {
    return absl::InvalidArgumentError("--test/--test_negatives given without --train");
  }
  if (!synthetic && o.config.task() == "ranking" && o.test_negatives_path.empty()) {
    return absl::InvalidArgumentError(
        "--task=ranking needs --test_negatives=FILE (NCF test.negative: each user's held-out "
        "item and its sampled negatives); psrec gen --out=DIR shows the layout");
  }
  if (o.config.task() == "rating" && !o.test_negatives_path.empty()) {
    return absl::InvalidArgumentError(
        "--test_negatives is for --task=ranking; for ratings give --test=FILE");
  }
  auto rpc = RpcOptionsFromFlags();
  if (!rpc.ok()) return rpc.status();
  o.rpc = std::move(*rpc);
  return o;
}

absl::StatusOr<GenOptions> GenOptionsFromFlags() {
  GenOptions o;
  o.out_dir = absl::GetFlag(FLAGS_out);
  if (o.out_dir.empty()) return absl::InvalidArgumentError("psrec gen needs --out=DIR");
  o.implicit = absl::GetFlag(FLAGS_implicit);
  o.users = absl::GetFlag(FLAGS_gen_users);
  o.items = absl::GetFlag(FLAGS_gen_items);
  o.per_user = absl::GetFlag(FLAGS_gen_per_user);
  o.rank = absl::GetFlag(FLAGS_gen_rank);
  o.noise = absl::GetFlag(FLAGS_gen_noise);
  o.seed = absl::GetFlag(FLAGS_seed);
  if (o.rank < 1 || o.rank > 1024) {
    return absl::InvalidArgumentError(absl::StrFormat("--gen_rank=%d: must be 1..1024", o.rank));
  }
  if (!(o.noise >= 0)) {
    return absl::InvalidArgumentError(absl::StrFormat("--gen_noise=%g: must be >= 0", o.noise));
  }
  if (o.users == 0 || o.items < 10 || o.per_user == 0) {
    return absl::InvalidArgumentError("gen: need --gen_users >= 1, --gen_items >= 10, --gen_per_user >= 1");
  }
  return o;
}

absl::StatusOr<EvalOptions> EvalOptionsFromFlags() {
  EvalOptions o;
  o.model_dir = absl::GetFlag(FLAGS_model_dir);
  if (o.model_dir.empty()) return absl::InvalidArgumentError("psrec eval needs --model_dir=DIR");
  o.test_path = absl::GetFlag(FLAGS_test);
  o.test_negatives_path = absl::GetFlag(FLAGS_test_negatives);
  o.metrics_json = absl::GetFlag(FLAGS_metrics_json);
  if (o.test_path.empty() && o.test_negatives_path.empty()) {
    return absl::InvalidArgumentError(
        "psrec eval needs --test_negatives=FILE (ranking) or --test=FILE (rating)");
  }
  return o;
}

absl::StatusOr<RecommendOptions> RecommendOptionsFromFlags() {
  RecommendOptions o;
  o.model_dir = absl::GetFlag(FLAGS_model_dir);
  if (o.model_dir.empty()) {
    return absl::InvalidArgumentError(
        "--model_dir=DIR is required (a directory written by --model_out)");
  }
  const std::string user = absl::GetFlag(FLAGS_user);
  o.users_path = absl::GetFlag(FLAGS_users);
  if (user.empty() == o.users_path.empty()) {
    return absl::InvalidArgumentError(
        "give either --user=ID or --users=FILE (one user id per line), not both");
  }
  if (!user.empty()) {
    if (!absl::SimpleAtoi(user, &o.user)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--user=%s: a user id is an unsigned 64-bit integer", user));
    }
    o.has_user = true;
  }
  o.k = absl::GetFlag(FLAGS_k);
  if (o.k == 0) return absl::InvalidArgumentError("--k=0: ask for at least one item");
  o.exclude_path = absl::GetFlag(FLAGS_exclude);
  o.items_path = absl::GetFlag(FLAGS_items);
  ReaderOptions& r = o.exclude_reader;
  r.format = absl::GetFlag(FLAGS_format);
  if (auto s = CheckInputFormat(r.format); !s.ok()) return s;
  r.delimiter = absl::GetFlag(FLAGS_delimiter);
  r.header = absl::GetFlag(FLAGS_header);
  r.user_col = absl::GetFlag(FLAGS_user_col);
  r.item_col = absl::GetFlag(FLAGS_item_col);
  r.rating_col = absl::GetFlag(FLAGS_rating_col);
  r.timestamp_col = absl::GetFlag(FLAGS_timestamp_col);
  r.implicit = true;  // only (user, item) matters; ratings are not parsed
  return o;
}

absl::StatusOr<ExportOptions> ExportOptionsFromFlags() {
  ExportOptions o;
  o.model_dir = absl::GetFlag(FLAGS_model_dir);
  if (o.model_dir.empty()) {
    return absl::InvalidArgumentError(
        "--model_dir=DIR is required (a directory written by --model_out)");
  }
  o.out_dir = absl::GetFlag(FLAGS_out);
  if (o.out_dir.empty()) {
    return absl::InvalidArgumentError("--out=DIR is required (where the .npy files go)");
  }
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "npy" && format != "auto") {
    return absl::InvalidArgumentError(
        absl::StrFormat("--format=%s: export writes npy; valid: npy (auto means npy)", format));
  }
  return o;
}

std::string LogLevelFlag() { return absl::GetFlag(FLAGS_log_level); }

void NormalizeFlagSpelling(std::vector<std::string>* args) {
  for (std::string& a : *args) {
    if (!absl::StartsWith(a, "--") || a.size() <= 2) continue;
    size_t end = a.find('=');
    if (end == std::string::npos) end = a.size();
    std::replace(a.begin() + 2, a.begin() + end, '-', '_');
  }
}

}  // namespace psrec
