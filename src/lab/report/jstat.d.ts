/** The part of jStat (npm "jstat", MIT) posenc uses: the quantile of Student's t distribution. */
declare module "jstat" {
  const jstat: {
    studentt: {
      /** The p-quantile of Student's t with `dof` degrees of freedom (dof > 0, need not be an integer). */
      inv(p: number, dof: number): number;
    };
  };
  export default jstat;
}
