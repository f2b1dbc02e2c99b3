// Which flags each role reads, for `psrec ROLE --help` and for telling a user
// what is valid when a flag is misspelt or its value does not parse.
//
// Flags are defined once for the whole binary (cli/flags.cc); Abseil's own
// --help lists only flags of a file named after the binary, so psrec keeps
// this table and prints the help itself from the flags' registered help text
// and defaults.
#ifndef PSREC_CLI_ROLE_FLAGS_H_
#define PSREC_CLI_ROLE_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace psrec {

// A titled group of flag names, e.g. "model and optimisation".
struct FlagGroup {
  std::string title;
  std::vector<std::string> flags;
};

// The flag groups `role` reads, in the order its help shows them; empty for
// an unknown role.
std::vector<FlagGroup> FlagGroupsOfRole(const std::string& role);

// The role's flags, one per line: `--name=DEFAULT` and the flag's help text,
// grouped. Flags not registered in this binary are left out.
std::string RoleFlagsHelp(const std::string& role);

// Checks every `--name[=value]` of `args` (args[0] is the program) before
// Abseil parses them: an unknown name is an error suggesting the nearest
// known flags, a value that does not parse is an error saying what the flag
// takes, its default and its help. `role` names the subcommand in messages.
absl::Status CheckFlagArgs(const std::string& role, const std::vector<std::string>& args);

}  // namespace psrec

#endif  // PSREC_CLI_ROLE_FLAGS_H_
