/** The papers that define the tasks of the suite (title, authors, year, arXiv id). */
import type { TaskPaper } from "./types.js";

/** The 15-task suite's source (its tasks come from Delétang et al. 2023, arXiv:2207.02098). */
export const RUOSS_2023: TaskPaper = {
  title: "Randomized Positional Encodings Boost Length Generalization of Transformers",
  authors: "Ruoss, Delétang, Genewein, Grau-Moya, Csordás, Bennani, Legg, Veness",
  year: 2023,
  arxiv: "2305.16843",
};

export const KAZEMNEJAD_2023: TaskPaper = {
  title: "The Impact of Positional Encoding on Length Generalization in Transformers",
  authors: "Kazemnejad, Padhi, Natesan Ramamurthy, Das, Reddy",
  year: 2023,
  arxiv: "2305.19466",
};

export const CHO_2024: TaskPaper = {
  title: "Position Coupling: Improving Length Generalization of Arithmetic Transformers Using Task Structure",
  authors: "Cho, Cho, Sreenivasan, Lee, Yun",
  year: 2024,
  arxiv: "2405.20671",
};

export const GOLOVNEVA_2024: TaskPaper = {
  title: "Contextual Position Encoding: Learning to Count What's Important",
  authors: "Golovneva, Wang, Weston, Sukhbaatar",
  year: 2024,
  arxiv: "2405.18719",
};

export const LIU_2023: TaskPaper = {
  title: "Exposing Attention Glitches with Flip-Flop Language Modeling",
  authors: "Liu, Ash, Goel, Krishnamurthy, Zhang",
  year: 2023,
  arxiv: "2306.00946",
};

export const BA_2016: TaskPaper = {
  title: "Using Fast Weights to Attend to the Recent Past",
  authors: "Ba, Hinton, Mnih, Leibo, Ionescu",
  year: 2016,
  arxiv: "1610.06258",
};

export const MOHTASHAMI_2023: TaskPaper = {
  title: "Landmark Attention: Random-Access Infinite Context Length for Transformers",
  authors: "Mohtashami, Jaggi",
  year: 2023,
  arxiv: "2305.16300",
};

/** Train short, test long: language models evaluated past their training context (sliding-window evaluation). */
export const PRESS_2022: TaskPaper = {
  title: "Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation",
  authors: "Press, Smith, Lewis",
  year: 2022,
  arxiv: "2108.12409",
};

/** The S5 word problem (state tracking), used by PaTH (arXiv:2505.16381) to compare position encodings. */
export const MERRILL_2024: TaskPaper = {
  title: "The Illusion of State in State-Space Models",
  authors: "Merrill, Petty, Sabharwal",
  year: 2024,
  arxiv: "2404.08819",
};
