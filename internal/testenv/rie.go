package testenv

// RIEVersion is the version of the AWS Lambda Runtime Interface Emulator
// (github.com/aws/aws-lambda-runtime-interface-emulator) that
// scripts/install-rie.sh builds; TestRIEVersion keeps the two equal. The
// module proxy serves its commits, not its release tags, so it is a
// pseudo-version.
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// RIEBinary returns the emulator's aws-lambda-rie: $SIGNET_RIE when set,
// else the one scripts/install-rie.sh builds under
// ${XDG_CACHE_HOME:-$HOME/.cache}/signet; "" when that is not an
// executable file. Tests that need it call Need with RIEBinary() != "".
func RIEBinary() string {
	return cachedBinary("SIGNET_RIE", "aws-lambda-rie-"+RIEVersion, "aws-lambda-rie")
}
