// @ts-check
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    ignores: [
      "node_modules",
      ".tools",
      ".cache",
      "circuits/build",
      "artifacts",
      "cache",
      "typechain-types",
      "coverage",
      "deploy/deployments",
      "protocol/abi.ts",
    ],
  },
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ["eslint.config.js", ".dependency-cruiser.cjs", "keepers/bin/aitbc.mjs"],
        },
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-unused-expressions": "off", // chai's `expect(x).to.be.true`
    },
  },
);
